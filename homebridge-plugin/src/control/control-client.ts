import { request } from "node:http";
import { type CommandInput, type CommandResult, EngineError } from "icloud2mqtt/engine";
import { controlFile, readIfExists } from "../storage.ts";
import {
  type ControlCommand,
  type ControlFile,
  ControlFileSchema,
  type ControlState,
  ControlStateSchema,
  ExecuteResponseSchema,
} from "./protocol.ts";

const TIMEOUT_MS = 3_000;
/** Sign-in commands wait for Apple; the plugin answers when its engine has. */
const EXECUTE_TIMEOUT_MS = 120_000;

/** The settings UI server's view of the running plugin, through its loopback API (protocol.ts). */
export class ControlClient {
  readonly #file: ControlFile;

  private constructor(file: ControlFile) {
    this.#file = file;
  }

  get mode(): ControlFile["mode"] {
    return this.#file.mode;
  }

  /** The running plugin, or null when none runs (no control file, or nothing answers on its port). */
  static async find(dir: string): Promise<{ client: ControlClient; state: ControlState } | null> {
    const text = await readIfExists(controlFile(dir)).catch(() => undefined);
    if (text === undefined) return null;
    let file: ControlFile;
    try {
      file = ControlFileSchema.parse(JSON.parse(text));
    } catch {
      return null;
    }
    const client = new ControlClient(file);
    try {
      return { client, state: await client.state() };
    } catch {
      return null;
    }
  }

  async state(): Promise<ControlState> {
    return ControlStateSchema.parse(await this.#call("GET", "/v1/state", undefined, TIMEOUT_MS));
  }

  /** Runs a sign-in command in the plugin's engine; rejects with the engine's error. */
  async execute<C extends ControlCommand>(command: C, input: CommandInput<C>): Promise<CommandResult<C>> {
    const reply = ExecuteResponseSchema.parse(
      await this.#call("POST", "/v1/execute", { command, input }, EXECUTE_TIMEOUT_MS),
    );
    if (reply.ok) return reply.result as CommandResult<C>;
    throw new EngineError(reply.error.code, reply.error.message, {
      info: reply.error.info,
      retryable: reply.error.retryable,
    });
  }

  #call(method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.#file.port,
          method,
          path,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.#file.token}`,
            ...(payload === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            if (res.statusCode !== 200) {
              reject(new EngineError("UNEXPECTED_RESPONSE", `the plugin answered ${res.statusCode}`));
              return;
            }
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
            } catch (error) {
              reject(new EngineError("UNEXPECTED_RESPONSE", "the plugin's answer is not JSON", { cause: error }));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new EngineError("BRIDGE_TIMEOUT", "the plugin did not answer in time")));
      req.on("error", (error) =>
        reject(error instanceof EngineError ? error : new EngineError("NETWORK", error.message, { cause: error })),
      );
      req.end(payload);
    });
  }
}
