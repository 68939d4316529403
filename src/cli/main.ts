#!/usr/bin/env node
import { Command } from "commander";
import { isEngineError } from "../errors.ts";
import { setLockCommand } from "../icloud/account-lock.ts";
import { VERSION } from "../version.ts";
import { registerApiKeyCommand } from "./api-key-command.ts";
import { registerDemoCommand } from "./demo-command.ts";
import { registerLoginCommand } from "./login-command.ts";
import { registerRunCommand } from "./run-command.ts";
import { registerServiceCommands } from "./service-commands.ts";
import { registerSimulateCommand } from "./simulate-command.ts";

const program = new Command()
  .name("icloud2mqtt")
  .description("Bridge Apple iCloud (Find My, photos, call history) to MQTT and Home Assistant")
  .version(VERSION)
  .showHelpAfterError()
  // Other processes waiting for this one's sign-in name it by this (e.g. `icloud2mqtt login`).
  .hook("preAction", (_program, action) => setLockCommand(`icloud2mqtt ${action.name()}`));

registerRunCommand(program);
registerDemoCommand(program);
registerLoginCommand(program);
registerSimulateCommand(program);
registerServiceCommands(program);
registerApiKeyCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = isEngineError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error);
  process.stderr.write(`icloud2mqtt: ${message}\n`);
  process.exitCode = 1;
  // A command that failed must end even if a library left a handle open.
  setTimeout(() => process.exit(1), 3000).unref();
}
