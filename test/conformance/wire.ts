/**
 * The network under the conformance replays: every Apple host name resolves to the simulator (as a
 * user would point `idmsa.apple.com`, `setup.icloud.com` and the webservice hosts at it), so each
 * replay keeps the URLs its client builds and its own host-based header and cookie rules.
 *
 * One thing the simulator cannot do on a single origin is Apple's cookie `Domain` attributes
 * (`aasp` Domain=idmsa.apple.com, `X-APPLE-WEBAUTH-*` Domain=.icloud.com, reference 1.3/1.10): it
 * sends host-only cookies. The wire adds the domain Apple would have sent to Set-Cookie lines without
 * one, so a client matching cookies by domain (every one of them) sees what it sees from Apple.
 */
import { request } from "node:http";

/** The webservice origin the simulator is told to advertise (its `publicOrigin`). */
export const SERVICE_ORIGIN = "https://p61-icloud.icloud.com";

export interface WireRequest {
  method: string;
  url: string;
  /** Exactly the headers the client sends (order kept), besides Host and Content-Length. */
  headers: [string, string][];
  body?: string;
}

export interface WireResponse {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Set-Cookie lines, with Apple's Domain added where the simulator sent none. */
  setCookie: string[];
  body: Buffer;
  text: string;
  json: unknown;
}

export interface WireEntry {
  method: string;
  host: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: string;
  status: number;
}

function appleDomain(host: string): string {
  if (host.endsWith("apple.com")) return host;
  if (host.endsWith("icloud.com")) return ".icloud.com";
  return host;
}

export class Wire {
  readonly #target: URL;
  /** Every request as it went out, for sequence assertions. */
  readonly log: WireEntry[] = [];

  constructor(simulatorUrl: string) {
    this.#target = new URL(simulatorUrl);
  }

  send(req: WireRequest): Promise<WireResponse> {
    const url = new URL(req.url);
    const headers: [string, string][] = [["Host", url.host], ...req.headers];
    const body = req.body === undefined ? undefined : Buffer.from(req.body, "utf8");
    if (body !== undefined) headers.push(["Content-Length", String(body.length)]);
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: this.#target.hostname,
          port: this.#target.port,
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers: headers.flat(),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const buffer = Buffer.concat(chunks);
            const text = buffer.toString("utf8");
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            const setCookie = (res.headers["set-cookie"] ?? []).map((line) =>
              /;\s*domain=/i.test(line) ? line : `${line}; Domain=${appleDomain(url.hostname)}`,
            );
            const status = res.statusCode ?? 0;
            this.log.push({
              method: req.method,
              host: url.hostname,
              path: url.pathname,
              query: url.search,
              headers: Object.fromEntries(req.headers.map(([name, value]) => [name.toLowerCase(), value])),
              ...(req.body === undefined ? {} : { body: req.body }),
              status,
            });
            resolve({ url: req.url, status, headers: res.headers, setCookie, body: buffer, text, json });
          });
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  }

  /** `METHOD path` of every request so far, e.g. `POST /appleauth/auth/signin/init`. */
  steps(): string[] {
    return this.log.map((entry) => `${entry.method} ${entry.path}`);
  }
}

/** Reads the `boot_args` JSON out of the idmsa auth page as the clients' parsers do. */
export function bootArgs(html: string): Record<string, unknown> | undefined {
  const match = /<script[^>]*class="boot_args"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  return match?.[1] ? (JSON.parse(match[1]) as Record<string, unknown>) : undefined;
}

/** Walks a dotted path through parsed JSON. */
export function dig(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
