import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { JSON_TYPE } from "./core-env.ts";
import type { ActiveFault, FaultSpec } from "./fault-spec.ts";
import type { SimResponse } from "./router.ts";

export type { ActiveFault, FaultSpec } from "./fault-spec.ts";

/** Run-time fault list: scenario faults first, then admin-added ones; first match wins. */
export class FaultStore {
  readonly #faults: ActiveFault[] = [];
  #nextId = 1;

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = { ...spec, id: this.#nextId++, remaining: spec.times ?? null, hits: 0 };
    this.#faults.push(fault);
    return fault;
  }

  clear(): void {
    this.#faults.length = 0;
  }

  list(): ActiveFault[] {
    return this.#faults.map((fault) => ({ ...fault }));
  }

  /** The fault that hits this request (consuming one of its `times`), if any. */
  take(routeId: string): ActiveFault | undefined {
    const index = this.#faults.findIndex((fault) => faultMatches(fault.endpoint, routeId));
    const fault = this.#faults[index];
    if (!fault) return undefined;
    fault.hits += 1;
    if (fault.remaining !== null) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.#faults.splice(index, 1);
    }
    return { ...fault };
  }
}

/** `*` matches every route, `idmsa.*` every route id starting with `idmsa.`, anything else exactly. */
export function faultMatches(endpoint: string, routeId: string): boolean {
  if (endpoint === "*" || endpoint === routeId) return true;
  return endpoint.endsWith(".*") && routeId.startsWith(endpoint.slice(0, -1));
}

/**
 * Answers the request with the fault, or (latency, short_body) returns "continue" so the route
 * answers (short_body: the dispatcher then cuts its body with {@link shortened}). Returns the status
 * written, `continue`, `reset` when the socket was cut, or `hang` once the client gave up on a
 * request that was never answered (its timeout).
 */
export async function applyFault(
  fault: ActiveFault,
  res: ServerResponse,
): Promise<number | "continue" | "reset" | "hang"> {
  switch (fault.kind) {
    case "hang":
      if (!res.socket?.destroyed) await new Promise((resolve) => res.once("close", resolve));
      return "hang";
    case "latency":
      await sleep(fault.delay_ms ?? 1000);
      return "continue";
    case "short_body":
      return "continue";
    case "reset":
      res.socket?.destroy();
      return "reset";
    case "unavailable":
      return send(res, 503, "text/plain", "Service Temporarily Unavailable");
    case "rate_limit":
      res.setHeader("Retry-After", String(fault.retry_after ?? 60));
      return send(res, 429, "text/plain", "Too Many Requests");
    case "malformed":
      return send(res, 200, "application/json;charset=UTF-8", '{"success": tru');
    case "truncated": {
      const body = '{"truncated": "this body is cut short by the simulator"}';
      res.writeHead(200, {
        "Content-Type": "application/json;charset=UTF-8",
        "Content-Length": String(body.length + 64),
      });
      res.write(body.slice(0, 20), () => res.socket?.destroy());
      return 200;
    }
    case "status": {
      const status = fault.status ?? 500;
      for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
      if (fault.body === undefined) return send(res, status, "text/plain", "");
      if (typeof fault.body === "string") return send(res, status, "text/plain", fault.body);
      return send(res, status, "application/json;charset=UTF-8", JSON.stringify(fault.body));
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): number {
  res.writeHead(status, { "Content-Type": type, "Content-Length": String(Buffer.byteLength(body)) });
  res.end(body);
  return status;
}

/**
 * The route's answer with only the first `bytes` bytes of its body (default half) and no
 * Content-Length of its own: the dispatcher sends the length of what is left, so the response ends
 * cleanly and only a client that checks the size it expected notices.
 */
export async function shortened(answer: SimResponse, bytes: number | undefined): Promise<SimResponse> {
  const headers = Object.fromEntries(
    Object.entries(answer.headers ?? {}).filter(([name]) => name.toLowerCase() !== "content-length"),
  );
  let body: Buffer;
  if (answer.stream) {
    const chunks: Buffer[] = [];
    for await (const chunk of answer.stream) chunks.push(Buffer.from(chunk as Uint8Array));
    body = Buffer.concat(chunks);
  } else if (answer.json !== undefined) {
    body = Buffer.from(JSON.stringify(answer.json));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type"))
      headers["Content-Type"] = JSON_TYPE;
  } else if (answer.text !== undefined) {
    body = Buffer.from(answer.text);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type"))
      headers["Content-Type"] = "text/plain;charset=UTF-8";
  } else {
    body = Buffer.from(answer.body ?? "");
  }
  return { status: answer.status, headers, body: body.subarray(0, bytes ?? Math.floor(body.length / 2)) };
}
