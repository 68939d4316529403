import { createRequire } from "node:module";
import type { Dispatcher, Agent as UndiciAgent } from "undici";

/**
 * The two parts of undici the iCloud client uses: its connection pool (`Agent`) and `request`.
 * undici's package entry also loads fetch, WebSocket, EventSource, the caches, the mocks and every
 * proxy agent: about 11 MB more RSS in the bridge (bench/README.md, "footprint.ts"). undici has no
 * `exports` map, so its own files can be loaded directly; the pinned major version keeps the paths.
 */
const require = createRequire(import.meta.url);

export const Agent = require("undici/lib/dispatcher/agent.js") as typeof UndiciAgent;
export type Agent = UndiciAgent;

const api = require("undici/lib/api/index.js") as {
  request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
};

/** undici's `request(url, options)` on `dispatcher` (what its entry's `request` does, without a global one). */
export function request(
  url: string,
  options: Omit<Dispatcher.RequestOptions, "origin" | "path"> & { dispatcher: Dispatcher },
): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const parsed = new URL(url);
  return api.request.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
  });
}
