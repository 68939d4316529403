import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The settings UI's server as Homebridge UI runs it: a forked child (the TypeScript source, with the
 * engine's source condition) spoken to over IPC.
 */

const SERVER = fileURLToPath(new URL("../../src/homebridge-ui/server.ts", import.meta.url));

export interface UiReply {
  success: boolean;
  data: unknown;
}

export class UiServer {
  readonly child: ChildProcess;
  readonly output: string[] = [];
  readonly #pending = new Map<string, (reply: UiReply) => void>();
  readonly ready: Promise<void>;

  constructor(storage: string) {
    this.child = fork(SERVER, [], {
      execArgv: ["--conditions=icloud2mqtt-source"],
      env: { ...process.env, HOMEBRIDGE_STORAGE_PATH: storage, HOMEBRIDGE_CONFIG_PATH: join(storage, "config.json") },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    this.child.stderr?.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once("exit", (code) => reject(new Error(`the UI server exited (${code}): ${this.output.join("")}`)));
      this.child.on("message", (message: { action?: string; payload?: { requestId?: string } & UiReply }) => {
        if (message.action === "ready") resolve();
        if (message.action === "response" && message.payload?.requestId) {
          const { success, data } = message.payload;
          this.#pending.get(message.payload.requestId)?.({ success, data });
          this.#pending.delete(message.payload.requestId);
        }
      });
    });
  }

  request(path: string, body: unknown): Promise<UiReply> {
    const requestId = randomUUID();
    return new Promise((resolve) => {
      this.#pending.set(requestId, resolve);
      this.child.send({ action: "request", requestId, path, body });
    });
  }

  async ok<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    const reply = await this.request(path, body);
    if (!reply.success) throw new Error(`${path} failed: ${JSON.stringify(reply.data)}`);
    return reply.data as T;
  }

  /** Closes the IPC channel, as Homebridge UI does when the settings close; resolves on exit. */
  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.disconnect();
    return exited;
  }
}
