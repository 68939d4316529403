import { readFile } from "node:fs/promises";
import type { Interface } from "node:readline";
import type { Command } from "commander";
import { EngineError } from "../errors.ts";
import { defaultStateDir, sessionsDir } from "../icloud/state-dir.ts";
import type { LoginIo } from "./login-flow.ts";

export { defaultStateDir, sessionsDir } from "../icloud/state-dir.ts";

interface LoginFlags {
  username: string;
  endpoint?: string;
  stateDir?: string;
  china?: boolean;
  passwordFile?: string;
  verbose?: boolean;
}

/** `icloud2mqtt login`: interactive sign-in (2FA/2SV) that stores the session for the bridge. */
export function registerLoginCommand(program: Command): void {
  program
    .command("login")
    .description("Sign in to iCloud interactively (2FA code, SMS/voice, 2SV) and store the session")
    .requiredOption("-u, --username <appleId>", "Apple ID")
    .option("--endpoint <url>", "origin replacing every Apple host (e.g. the simulator)")
    .option("--state-dir <dir>", "where sessions are stored (default $ICLOUD2MQTT_STATE_DIR or ~/.icloud2mqtt)")
    .option("--china", "China mainland account (.com.cn hosts)")
    .option("--password-file <file>", "read the password from this file (else $ICLOUD_PASSWORD, else a prompt)")
    .option("-v, --verbose", "debug logging on stderr")
    .action(async (flags: LoginFlags) => {
      process.exitCode = await loginAction(flags);
    });
}

async function loginAction(flags: LoginFlags): Promise<number> {
  // Loaded when the command runs, so other commands start without the iCloud client.
  const [{ ICloudSession }, { SessionStore }, { createLogger }, { failureText, runInteractiveLogin, waitingText }] =
    await Promise.all([
      import("../icloud/session.ts"),
      import("../icloud/session-store.ts"),
      import("../pino-logger.ts"),
      import("./login-flow.ts"),
    ]);
  const io = terminalIo();
  try {
    const logger = createLogger({
      level: flags.verbose === true ? "debug" : "error",
      destination: process.stderr,
      name: "login",
    });
    const stateDir = flags.stateDir ?? defaultStateDir();
    const session = await ICloudSession.open({
      username: flags.username,
      store: new SessionStore(sessionsDir(stateDir), logger),
      logger,
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
      ...(flags.china === true ? { china: true } : {}),
    });
    let waiting = false;
    session.onChange((snapshot) => {
      const text = waitingText(snapshot);
      if (text !== undefined && !waiting) io.print(text);
      waiting = text !== undefined;
    });
    // A stored session that still works needs no password (and no e-mail to the user); while
    // another process signs in, this waits for it and uses the session it stores.
    const stored = await session.signIn();
    if (stored.state === "active") {
      io.print(`Signed in as ${stored.username} with the stored session; no password or code was needed.`);
      if (stored.trust_expires_at !== null) io.print(`This computer stays trusted until ${stored.trust_expires_at}.`);
      await session.close();
      return 0;
    }
    if (stored.error === "sign-in-busy") {
      io.print(failureText(stored));
      await session.close();
      return 1;
    }
    session.setPassword(await readPassword(flags, io));
    const code = await runInteractiveLogin(session, io);
    await session.close();
    if (code === 0) io.print(`Session stored in ${sessionsDir(stateDir)}.`);
    return code;
  } finally {
    io.close();
  }
}

async function readPassword(flags: LoginFlags, io: TerminalIo): Promise<string> {
  if (flags.passwordFile !== undefined) {
    const text = await readFile(flags.passwordFile, "utf8");
    return text.replace(/\r?\n$/, "");
  }
  const fromEnv = process.env["ICLOUD_PASSWORD"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const password = await io.askHidden(`Password for ${flags.username}: `);
  if (password === "") throw new EngineError("INVALID_INPUT", "no password given");
  return password;
}

interface TerminalIo extends LoginIo {
  askHidden(question: string): Promise<string>;
  close(): void;
}

function terminalIo(): TerminalIo {
  let rl: Interface | undefined;
  let lines: AsyncIterator<string> | undefined;
  const nextLine = async (question: string): Promise<string> => {
    process.stdout.write(question);
    // node:readline only when a prompt is shown: `run` imports this module too, and never prompts.
    rl ??= process.getBuiltinModule("node:readline").createInterface({ input: process.stdin, terminal: false });
    lines ??= rl[Symbol.asyncIterator]();
    const next = await lines.next();
    if (next.done === true) throw new EngineError("INVALID_INPUT", "input closed before the login finished");
    return next.value;
  };
  return {
    ask: nextLine,
    print: (line) => process.stdout.write(`${line}\n`),
    askHidden: (question) =>
      process.stdin.isTTY === true && rl === undefined ? hiddenPrompt(question) : nextLine(question),
    close: () => rl?.close(),
  };
}

/** Reads a line from the terminal without echoing it. */
function hiddenPrompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(question);
    let value = "";
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      process.stdout.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          done();
          return;
        }
        if (ch === "\u0003") {
          done(new EngineError("INVALID_INPUT", "cancelled"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}
