import { randomBytes, timingSafeEqual } from "node:crypto";
import { rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type CommandName, type EngineApi, toEngineError } from "icloud2mqtt/engine";
import { controlFile, readIfExists, writeSecret } from "../storage.ts";
import { type ControlFile, type ControlState, ExecuteRequestSchema, type WireError } from "./protocol.ts";

const MAX_BODY = 16 * 1024;

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the engine's sign-in commands and account states on 127.0.0.1 (see protocol.ts) and writes
 * `control.json` (port and a fresh random token, 0600). `close()` stops listening, ends open
 * connections and removes the file if it is still this server's.
 */
export async function startControlServer(options: {
  engine: EngineApi;
  dir: string;
  mode: ControlFile["mode"];
}): Promise<ControlServer> {
  const { engine, dir, mode } = options;
  const token = randomBytes(32).toString("base64url");
  const expected = Buffer.from(`Bearer ${token}`);
  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => send(res, 500, { error: "internal error" }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized(req)) return send(res, 401, { error: "unauthorized" });
    if (req.method === "GET" && req.url === "/v1/state") {
      const state: ControlState = {
        version: engine.version,
        mode,
        accounts: engine
          .accounts()
          .map((a) => ({ id: a.id, username: a.username, state: engine.snapshot(a.id).state })),
      };
      return send(res, 200, state);
    }
    if (req.method === "POST" && req.url === "/v1/execute") {
      const body = await readBody(req);
      let json: unknown;
      try {
        json = JSON.parse(body ?? "");
      } catch {
        return send(res, 400, { error: "the body is not JSON" });
      }
      const request = ExecuteRequestSchema.safeParse(json);
      if (!request.success) return send(res, 400, { error: "expected {command, input} with a sign-in command" });
      try {
        const result = await engine.execute(request.data.command as CommandName, request.data.input as never);
        return send(res, 200, { ok: true, result });
      } catch (error) {
        const e = toEngineError(error);
        const wire: WireError = { code: e.code, message: e.message, retryable: e.retryable, info: e.info };
        return send(res, 200, { ok: false, error: wire });
      }
    }
    return send(res, 404, { error: "not found" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const file = controlFile(dir);
  const content: ControlFile = { port, token, pid: process.pid, mode };
  await writeSecret(file, `${JSON.stringify(content)}\n`);

  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const current = await readIfExists(file).catch(() => undefined);
      if (current?.includes(token)) await rm(file, { force: true });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
