import { z } from "zod";
import type { AccountHandle } from "./account-handle.ts";
import { httpReply } from "./node-errors.ts";
import type { HttpHandler, HttpResponse, NodeRedApi } from "./red.ts";

/**
 * The admin HTTP API the account node's edit dialog talks to (under Node-RED's admin root, behind
 * `RED.auth.needsPermission`), and the comms topic that pushes account changes to open editors.
 * Before the first deploy of an account node there is no runtime node to ask: 503 "deploy first".
 */

/** Runtime account nodes by node id (the newest one wins while a redeploy replaces a node). */
const handles = new Map<string, AccountHandle>();

export function registerHandle(handle: AccountHandle): void {
  handles.set(handle.nodeId, handle);
}

export function unregisterHandle(handle: AccountHandle): void {
  if (handles.get(handle.nodeId) === handle) handles.delete(handle.nodeId);
}

/** The comms topic an account node publishes its view on (retained: editors opened later get it too). */
export function commsTopic(nodeId: string): string {
  return `icloud2mqtt/accounts/${nodeId}`;
}

export const ADMIN_PATH = "/icloud2mqtt/accounts/:id";

const MfaBody = z.object({ code: z.union([z.string(), z.number()]).transform((value) => String(value).trim()) });
const ResendBody = z.object({
  method: z.enum(["device", "sms", "voice"]),
  phone_number_id: z.coerce.number().int().positive().optional(),
});
const ChoiceBody = z.object({ choice: z.string() });

function send(res: HttpResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  let reply = res.status(status);
  for (const [name, value] of Object.entries(headers)) reply = reply.set(name, value);
  reply.json(body);
}

function deployFirst(res: HttpResponse): void {
  send(res, 503, { error: "deploy first: this account is not running yet", code: "NOT_DEPLOYED" });
}

/** A POST that parses its body, runs one command and answers with the result and the account's view. */
function command<S extends z.ZodType>(
  schema: S,
  run: (handle: AccountHandle, body: z.output<S>) => Promise<unknown>,
): HttpHandler {
  return (req, res) => {
    const handle = handles.get(req.params["id"] ?? "");
    if (handle === undefined) {
      deployFirst(res);
      return;
    }
    const body = schema.safeParse(req.body ?? {});
    if (!body.success) {
      const problem = body.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      send(res, 400, { error: problem, code: "INVALID_INPUT" });
      return;
    }
    run(handle, body.data).then(
      (result) => send(res, 200, { result, account: handle.view() }),
      (error: unknown) => {
        const reply = httpReply(error);
        send(res, reply.status, { ...reply.body, account: handle.view() }, reply.headers);
      },
    );
  };
}

const installed = new WeakSet<object>();

/** Adds the routes to Node-RED's admin app (once per app, whichever node file registers first). */
export function installAdminApi(RED: NodeRedApi): void {
  if (installed.has(RED.httpAdmin)) return;
  installed.add(RED.httpAdmin);
  const read = RED.auth.needsPermission("icloud-account.read");
  const write = RED.auth.needsPermission("icloud-account.write");
  RED.httpAdmin.get(ADMIN_PATH, read, (req, res) => {
    const handle = handles.get(req.params["id"] ?? "");
    if (handle === undefined) deployFirst(res);
    else send(res, 200, handle.view());
  });
  RED.httpAdmin.post(
    `${ADMIN_PATH}/mfa`,
    write,
    command(MfaBody, (handle, { code }) => handle.execute("mfa", { code })),
  );
  RED.httpAdmin.post(
    `${ADMIN_PATH}/resend`,
    write,
    command(ResendBody, (handle, body) => handle.execute("resend_mfa", body)),
  );
  RED.httpAdmin.post(
    `${ADMIN_PATH}/choice`,
    write,
    command(ChoiceBody, (handle, { choice }) => handle.execute("choice", { choice })),
  );
}
