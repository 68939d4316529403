/// <reference path="./undici-internals.d.ts" />
import type { Dispatcher, Agent as UndiciAgent } from "undici";
import apiModule from "undici/lib/api/index.js";
import agentModule from "undici/lib/dispatcher/agent.js";

/**
 * The two parts of undici the iCloud client uses: its connection pool (`Agent`) and `request`.
 * undici's package entry also loads fetch, WebSocket, EventSource, the caches, the mocks and every
 * proxy agent: about 11 MB more RSS in the bridge (bench/README.md, "footprint.ts"). undici has no
 * `exports` map, so its own files can be imported directly (their types: undici-internals.d.ts); the
 * pinned major version keeps the paths. Static imports, so the command's bundle
 * (scripts/bundle-command.ts) takes in these files and not the entry.
 */
export const Agent = agentModule as typeof UndiciAgent;
export type Agent = UndiciAgent;

const api = apiModule as {
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
