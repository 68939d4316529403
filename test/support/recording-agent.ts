import { Agent, type Dispatcher } from "undici";

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The body parsed as JSON when it is JSON, else the text; undefined without a body. */
  body: unknown;
}

/**
 * An undici Agent that notes every request it sends (method, path, headers, body) and sends it on
 * unchanged: what a client puts on the wire, observed on the real connection (like a packet capture).
 */
export class RecordingAgent extends Agent {
  readonly requests: RecordedRequest[] = [];

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.requests.push({
      method: options.method,
      path: options.path,
      headers: lowerCase(options.headers),
      body: parse(options.body),
    });
    return super.dispatch(options, handler);
  }

  /** The requests whose path (without the query) ends with `suffix`. */
  to(suffix: string): RecordedRequest[] {
    return this.requests.filter((r) => (r.path.split("?")[0] ?? "").endsWith(suffix));
  }
}

function lowerCase(headers: Dispatcher.DispatchOptions["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === null || headers === undefined) return out;
  const entries: Array<[string, unknown]> = Array.isArray(headers)
    ? (headers as unknown[]).flatMap((_, i, all) =>
        i % 2 === 0 ? [[String(all[i]), all[i + 1]] as [string, unknown]] : [],
      )
    : Object.entries(headers as Record<string, unknown>);
  for (const [name, value] of entries)
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  return out;
}

function parse(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  const text = typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : undefined;
  if (text === undefined) return "<stream>";
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
