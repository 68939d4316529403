#!/usr/bin/env node
import { Command } from "commander";
import { isBridgeError } from "../errors.ts";
import { VERSION } from "../version.ts";

const program = new Command()
  .name("icloud2mqtt")
  .description("Bridge Apple iCloud (Find My, photos, call history) to MQTT and Home Assistant")
  .version(VERSION)
  .showHelpAfterError();

const { registerSimulateCommand } = await import("./simulate-command.ts");
const { registerLoginCommand } = await import("./login-command.ts");
const { registerDemoCommand } = await import("./demo-command.ts");
registerSimulateCommand(program);
registerLoginCommand(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = isBridgeError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error);
  process.stderr.write(`icloud2mqtt: ${message}\n`);
  process.exitCode = 1;
}
