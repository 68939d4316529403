/** Child Node processes for the multi-process tests: output captured by line, waits with a deadline. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface NodeChild {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr lines so far, in arrival order. */
  lines: string[];
  /** Lines that parse as JSON objects (pino logs, test events). */
  events(): Record<string, unknown>[];
  /** Resolves with the first line matching (also one already printed); rejects after `timeoutMs`. */
  waitFor(match: RegExp | ((line: string) => boolean), what: string, timeoutMs?: number): Promise<string>;
  /** Exit code, or the signal's name when it was killed by one. */
  exited: Promise<number | string>;
  write(text: string): void;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<NodeChild>();

/** Starts `node <args>` in the repository root. */
export function spawnNode(args: string[], env: Record<string, string> = {}): NodeChild {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream): void => {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts.filter((line) => line !== ""));
      for (const wake of [...waiters]) wake();
    });
  };
  if (child.stdout) collect(child.stdout);
  if (child.stderr) collect(child.stderr);
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(handle);
      resolve(code ?? signal ?? -1);
      for (const wake of [...waiters]) wake();
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const handle: NodeChild = {
    child,
    pid: child.pid ?? -1,
    lines,
    events: () => lines.flatMap((line) => parseJson(line)),
    waitFor: (match, what, timeoutMs = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const test = typeof match === "function" ? match : (line: string) => match.test(line);
        const check = (): void => {
          const hit = lines.find(test);
          if (hit !== undefined) finish(() => resolve(hit));
          else if (done) finish(() => reject(new Error(`${what}: the process ended first\n${lines.join("\n")}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${what}\n${lines.join("\n")}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    exited,
    write: (text) => child.stdin?.write(text),
    kill: (signal = "SIGTERM") => {
      if (!done) child.kill(signal);
    },
  };
  running.add(handle);
  return handle;
}

/** Kills what is still running (afterEach). */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const handle of left) handle.kill("SIGKILL");
  await Promise.all(left.map((handle) => handle.exited));
}

function parseJson(line: string): Record<string, unknown>[] {
  if (!line.startsWith("{")) return [];
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : [];
  } catch {
    return [];
  }
}
