import type { CloudKitClient } from "./cloudkit-client.ts";
import { RecordsResponseSchema } from "./cloudkit-schemas.ts";
import { DESIRED_KEYS, RecordPairer, toPhotoItem } from "./records.ts";
import type { PhotoItem, PhotoZone } from "./types.ts";
import { completeOrphans, PAGE_RECORDS } from "./zone-changes.ts";

export interface EnumerateOptions {
  /** Only items with `date_uploaded` later than this (ricloud `since`). */
  since?: Date | string;
  /** Only items with `date_uploaded` earlier than this (ricloud `until`). */
  until?: Date | string;
  /**
   * `asc` (oldest first, default) or `desc` (newest first). On the `added` index a walk stops at the
   * first item past the bound it moves towards, so "what came since X" is cheapest with `desc`.
   */
  order?: "asc" | "desc";
  /**
   * `added` (default): `CPLAssetAndMasterByAddedDate`, sorted by `date_uploaded`, so `since`/`until`
   * also stop the walk early. `asset_date`: "All Photos" by capture date, server-side without hidden
   * or deleted items.
   */
  index?: "added" | "asset_date";
  /** Keep hidden items (the `added` index includes them; default false). */
  includeHidden?: boolean;
  /** Records per page, at most 200 (= 100 photos). */
  pageSize?: number;
  /**
   * Pages requested ahead of the one being read, at most 4 (default 0: each page is asked for after
   * the previous one arrived). A long walk then waits for the server only while it has nothing left
   * to read; see {@link enumeratePages}.
   */
  prefetch?: number;
  /**
   * Rank to start from instead of the first (`asc`) or last (`desc`) one: a walk resumed from a
   * page's `nextRank` (see {@link enumeratePages}). Clipped to the index.
   */
  startRank?: number;
  signal?: AbortSignal;
}

/** One page of a walk: its items (filtered like `enumerate`) and the rank the next page starts at (-1: done). */
export interface EnumeratedPage {
  items: PhotoItem[];
  /** Rank of this page's first item (where a walk resumed at it would start). */
  rank: number;
  nextRank: number;
  /** Items of the index in total (`desc` walks only; undefined for `asc`). */
  total?: number;
}

const INDEXES = {
  added: { recordType: "CPLAssetAndMasterByAddedDate", countId: "CPLAssetByAddedDate" },
  asset_date: {
    recordType: "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted",
    countId: "CPLAssetByAssetDateWithoutHiddenOrDeleted",
  },
} as const;

function millis(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${String(value)}`);
  return ms;
}

async function queryPage(
  client: CloudKitClient,
  zone: PhotoZone,
  recordType: string,
  startRank: number,
  direction: "ASCENDING" | "DESCENDING",
  limit: number,
  signal: AbortSignal | undefined,
): Promise<{ items: PhotoItem[]; assets: number }> {
  const body = {
    query: {
      recordType,
      filterBy: [
        { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: startRank } },
        { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: direction } },
      ],
    },
    resultsLimit: limit,
    desiredKeys: DESIRED_KEYS,
    zoneID: zone.zoneID,
  };
  const answer = await client.post(zone.database, "/records/query", body, RecordsResponseSchema, signal);
  const pairer = new RecordPairer();
  const items: PhotoItem[] = [];
  for (const record of answer.records) {
    for (const [master, asset] of pairer.add(record)) items.push(toPhotoItem(master, asset, zone));
  }
  items.push(...(await completeOrphans(client, zone, pairer.orphanAssets(), signal)));
  // Ranks count photos (CPLAsset records), also those whose master could not be found.
  return { items, assets: answer.records.filter((record) => record.recordType === "CPLAsset").length };
}

/** The most pages `prefetch` keeps requested ahead. */
export const MAX_PREFETCH = 4;

/**
 * Lists a zone page by page (≤ 200 records = 100 photos per request) with `startRank` = photos seen,
 * holding one page in memory at a time (plus up to `prefetch` pages requested ahead). Items come in
 * index order; `count` is the zone's item count for `desc`, where walking starts at rank `count - 1`.
 * Each page says where the next one starts, so a long walk can be resumed after a restart (ranks move
 * only when items are inserted or removed below the position: a resumed walk may see a few items
 * twice, never skip one that stayed put).
 *
 * With `prefetch`, the pages after the current one are asked for at the ranks they start at when
 * every page is full (100 photos), one more each time a full page arrives (the first page is asked
 * for alone, so a walk that stops after it costs no extra request). A page with another number of
 * photos (an asset whose master is missing, the end of the library) puts the walk on other ranks: the
 * pages asked for ahead are dropped (aborted, their answers unread) and asking ahead starts again
 * from one page at the right rank. Items and
 * pages are the same, in the same order, as without `prefetch`.
 */
export async function* enumeratePages(
  client: CloudKitClient,
  zone: PhotoZone,
  options: EnumerateOptions,
  count: (indexCountId: string) => Promise<number>,
): AsyncGenerator<EnumeratedPage> {
  const index = INDEXES[options.index ?? "added"];
  const byAdded = (options.index ?? "added") === "added";
  const since = millis(options.since);
  const until = millis(options.until);
  const desc = options.order === "desc";
  const limit = Math.max(2, Math.min(PAGE_RECORDS, options.pageSize ?? PAGE_RECORDS));
  const ahead = Math.max(0, Math.min(MAX_PREFETCH, Math.floor(options.prefetch ?? 0)));
  /** Photos on a full page: each is an asset and its master record. */
  const step = Math.floor(limit / 2);
  const total = desc ? await count(index.countId) : undefined;
  let rank = desc ? (total ?? 0) - 1 : 0;
  if (options.startRank !== undefined) rank = desc ? Math.min(rank, options.startRank) : Math.max(0, options.startRank);
  /** Requests sent and not read yet, by the rank they start at. */
  const requested = new Map<number, { page: Promise<{ items: PhotoItem[]; assets: number }>; stop: AbortController }>();
  const request = (at: number) => {
    const stop = new AbortController();
    const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
    const page = queryPage(client, zone, index.recordType, at, desc ? "DESCENDING" : "ASCENDING", limit, signal);
    page.catch(() => undefined); // read (and thrown) when its turn comes, or dropped
    const entry = { page, stop };
    requested.set(at, entry);
    return entry;
  };
  const dropRequested = () => {
    for (const entry of requested.values()) entry.stop.abort();
    requested.clear();
  };
  let depth = 0;
  try {
    while (rank >= 0) {
      options.signal?.throwIfAborted();
      const current = requested.get(rank) ?? request(rank);
      for (let i = 1; i <= depth; i++) {
        const at = desc ? rank - i * step : rank + i * step;
        if (at < 0) break;
        if (!requested.has(at)) request(at);
      }
      const page = await current.page;
      requested.delete(rank);
      if (page.assets === 0) return;
      const start = rank;
      rank += desc ? -page.assets : page.assets;
      if (page.assets === step) {
        depth = Math.min(ahead, depth + 1);
      } else {
        // Off the ranks asked for ahead: drop them and start asking ahead again from one page.
        dropRequested();
        depth = 0;
      }
      const key = (item: PhotoItem): number => Date.parse(byAdded ? item.asset.date_uploaded : item.asset.date_created);
      page.items.sort((a, b) => (desc ? key(b) - key(a) : key(a) - key(b)));
      const items: PhotoItem[] = [];
      let ended = false;
      for (const item of page.items) {
        const uploaded = Date.parse(item.asset.date_uploaded);
        // On the added-date index the walk is sorted by date_uploaded: the first item past a bound ends it.
        if (byAdded && desc && since !== undefined && uploaded <= since) {
          ended = true;
          break;
        }
        if (byAdded && !desc && until !== undefined && uploaded >= until) {
          ended = true;
          break;
        }
        if (since !== undefined && uploaded <= since) continue;
        if (until !== undefined && uploaded >= until) continue;
        if (item.deleted || (item.asset.hidden && options.includeHidden !== true)) continue;
        items.push(item);
      }
      const nextRank = ended ? -1 : rank;
      yield { items, rank: start, nextRank, ...(total === undefined ? {} : { total }) };
      if (ended) return;
    }
  } finally {
    dropRequested();
  }
}

/** {@link enumeratePages}, item by item. */
export async function* enumerateZone(
  client: CloudKitClient,
  zone: PhotoZone,
  options: EnumerateOptions,
  count: (indexCountId: string) => Promise<number>,
): AsyncGenerator<PhotoItem> {
  for await (const page of enumeratePages(client, zone, options, count)) yield* page.items;
}
