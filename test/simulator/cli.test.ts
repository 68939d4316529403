import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../src/logger.ts";
import { startSimulator } from "../../src/simulator/server.ts";
import { TestClient } from "../support/idmsa-client.ts";

const DEMO = fileURLToPath(new URL("../../src/simulator/scenarios/demo.yaml", import.meta.url));

function capture(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: (msg) => lines.push(msg),
    warn: (msg) => lines.push(msg),
    error: (msg) => lines.push(msg),
    child: () => logger,
  };
  return logger;
}

describe("simulate command and demo scenario", () => {
  it("logs the random code a device shows, and never the password", async () => {
    const lines: string[] = [];
    const sim = await startSimulator({ scenario: DEMO, logger: capture(lines) });
    try {
      const client = new TestClient(sim.url);
      expect((await client.signIn("demo@icloud2mqtt.invalid", "demo-password")).status).toBe(409);
      await client.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode");
      const shown = sim.deviceCode("demo@icloud2mqtt.invalid");
      expect(lines.some((line) => line.includes(`device shows code ${shown?.code}`))).toBe(true);
      expect(lines.join("\n")).not.toContain("demo-password");
      const login = await client.request("POST", "/appleauth/auth/verify/trusteddevice/securitycode", {
        json: { securityCode: { code: shown?.code } },
      });
      expect(login.status).toBe(204);
      const setup = await client.accountLogin();
      expect(Object.keys(setup.json["webservices"] as object)).toContain("callhistory");
    } finally {
      await sim.close();
    }
  });

  it("`simulate --scenario` starts, prints its URL and stops on SIGTERM", async () => {
    const script = [
      'import { Command } from "commander";',
      `import { registerSimulateCommand } from ${JSON.stringify(new URL("../../src/cli/simulate-command.ts", import.meta.url).href)};`,
      "const program = new Command();",
      "registerSimulateCommand(program);",
      `await program.parseAsync(["node", "x", "simulate", "--scenario", ${JSON.stringify(DEMO)}, "--port", "0"]);`,
      'process.stdout.write("STOPPED\\n");',
    ].join("\n");
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL in output: ${out}`)), 15_000);
      child.stdout.on("data", () => {
        const match = /simulator ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const answer = await new TestClient(url).request("GET", "/appleauth/auth/authorize/signin");
    expect(answer.status).toBe(200);
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out).toContain("STOPPED");
  });
});
