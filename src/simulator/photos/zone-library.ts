/**
 * One CloudKit zone of a photo library (PrimarySync or SharedSync-<UUID>), kept as compact
 * typed-array columns plus a change log. Records are built on demand from an asset index.
 */

import { mix, Prng } from "../prng.ts";
import {
  FLAG_DELETED,
  FLAG_EXPUNGED,
  FLAG_FAVORITE,
  FLAG_HIDDEN,
  FLAG_HOSTILE_NAME,
  FLAG_LIVE,
  FLAG_PORTRAIT,
  FLAG_STRING_NAME,
  TYPE_HEIC,
  TYPE_JPEG,
  TYPE_MOV,
  TYPE_MP4,
  TYPE_PNG,
  TYPE_RAW,
} from "./item-types.ts";
import type { LibraryOptions } from "./scenario.ts";

export interface ZoneIdentity {
  zoneName: string;
  ownerRecordName: string;
  zoneType: "REGULAR_CUSTOM_ZONE";
}

const DAY = 86_400_000;

function grow<T extends Float64Array | Int32Array | Uint8Array>(array: T, capacity: number, make: (n: number) => T): T {
  if (capacity <= array.length) return array;
  const next = make(Math.max(capacity, array.length * 2, 16));
  next.set(array);
  return next;
}

export class ZoneLibrary {
  readonly zone: ZoneIdentity;
  /** 0 = PrimarySync, 1 = the shared library; part of record names and checksums. */
  readonly zoneIndex: number;
  readonly options: LibraryOptions;
  /** Per-zone key mixed into names, checksums and bytes. */
  readonly key: number;
  count = 0;
  assetDate = new Float64Array(0);
  addedDate = new Float64Array(0);
  modified = new Float64Array(0);
  size = new Float64Array(0);
  itemType = new Uint8Array(0);
  flags = new Uint8Array(0);
  /** Change-log sequence number of each record's latest change (master, asset). */
  masterSeq = new Int32Array(0);
  assetSeq = new Int32Array(0);
  /** Change log: entry i (sequence i + 1) = asset index * 2 + (0 master | 1 asset). */
  log = new Int32Array(0);
  logLength = 0;
  /** Bumped on every change; sorted views are rebuilt when it moves. */
  version = 0;
  readonly #views = new Map<string, { version: number; order: Int32Array }>();

  constructor(zone: ZoneIdentity, zoneIndex: number, options: LibraryOptions) {
    this.zone = zone;
    this.zoneIndex = zoneIndex;
    this.options = options;
    this.key = mix(options.seed, zoneIndex, 0x5eed);
  }

  /** The current change-log head (the sequence number a fresh sync token carries). */
  get head(): number {
    return this.logLength;
  }

  #ensure(capacity: number): void {
    this.assetDate = grow(this.assetDate, capacity, (n) => new Float64Array(n));
    this.addedDate = grow(this.addedDate, capacity, (n) => new Float64Array(n));
    this.modified = grow(this.modified, capacity, (n) => new Float64Array(n));
    this.size = grow(this.size, capacity, (n) => new Float64Array(n));
    this.itemType = grow(this.itemType, capacity, (n) => new Uint8Array(n));
    this.flags = grow(this.flags, capacity, (n) => new Uint8Array(n));
    this.masterSeq = grow(this.masterSeq, capacity, (n) => new Int32Array(n));
    this.assetSeq = grow(this.assetSeq, capacity, (n) => new Int32Array(n));
    this.log = grow(this.log, capacity * 2 + 64, (n) => new Int32Array(n));
  }

  #append(entry: number): number {
    if (this.logLength >= this.log.length) this.log = grow(this.log, this.logLength + 1, (n) => new Int32Array(n));
    this.log[this.logLength++] = entry;
    this.version++;
    return this.logLength;
  }

  /** Appends `n` assets; `addedAt(i)` gives each one's added date (ms). Returns the first new index. */
  addAssets(n: number, addedAt: (i: number) => number, importLag: boolean): number {
    const first = this.count;
    this.#ensure(first + n);
    const o = this.options;
    for (let k = 0; k < n; k++) {
      const idx = first + k;
      const rng = new Prng(mix(this.key, idx));
      const added = Math.floor(addedAt(k));
      const r = rng.next();
      let type = TYPE_HEIC;
      let flags = 0;
      if (r < o.videoRatio) type = rng.next() < 0.8 ? TYPE_MOV : TYPE_MP4;
      else if (r < o.videoRatio + o.rawRatio) type = TYPE_RAW;
      else if (r < o.videoRatio + o.rawRatio + o.pngRatio) type = TYPE_PNG;
      else {
        type = rng.next() < 0.7 ? TYPE_HEIC : TYPE_JPEG;
        if (rng.next() < o.liveRatio) flags |= FLAG_LIVE;
      }
      if (rng.next() < o.favoriteRatio) flags |= FLAG_FAVORITE;
      if (rng.next() < o.stringFilenameRatio) flags |= FLAG_STRING_NAME;
      if (o.hostileFilenames && rng.next() < 0.05) flags |= FLAG_HOSTILE_NAME;
      if (rng.next() < 0.3) flags |= FLAG_PORTRAIT;
      // Most photos are uploaded minutes after capture; some are imports of old pictures.
      const lag = importLag && rng.next() < 0.1 ? rng.next() * o.spanDays * DAY : rng.next() * 3_600_000;
      this.assetDate[idx] = Math.max(0, Math.floor(added - lag));
      this.addedDate[idx] = added;
      this.modified[idx] = added;
      this.size[idx] = rng.int(o.sizeMin, o.sizeMax);
      this.itemType[idx] = type;
      this.flags[idx] = flags;
      this.count = idx + 1;
      this.masterSeq[idx] = this.#append(idx * 2);
      this.assetSeq[idx] = this.#append(idx * 2 + 1);
    }
    return first;
  }

  /** Generates the initial library ending at `endMs`, including hidden and Recently-Deleted assets. */
  generate(endMs: number): void {
    const o = this.options;
    const start = endMs - o.spanDays * DAY;
    const step = o.count > 0 ? (endMs - start) / o.count : 0;
    this.addAssets(o.count, (k) => start + k * step, true);
    const rng = new Prng(mix(this.key, 0xde1));
    const pick = (howMany: number, flag: number): void => {
      let placed = 0;
      for (let tries = 0; placed < howMany && tries < howMany * 20 + 100 && this.count > 0; tries++) {
        const idx = rng.int(0, this.count - 1);
        const f = this.flags[idx] ?? 0;
        if (f & (FLAG_HIDDEN | FLAG_DELETED)) continue;
        this.flags[idx] = f | flag;
        placed++;
      }
    };
    pick(Math.min(o.hiddenCount, this.count), FLAG_HIDDEN);
    pick(Math.min(o.deletedCount, this.count), FLAG_DELETED);
  }

  /** Changes an asset's flags at time `now`; logs one asset change (both records when expunged). */
  update(idx: number, set: number, clear: number, now: number): boolean {
    if (idx < 0 || idx >= this.count) return false;
    const before = this.flags[idx] ?? 0;
    if (before & FLAG_EXPUNGED) return false;
    const after = (before | set) & ~clear;
    if (after === before) return false;
    this.flags[idx] = after;
    this.modified[idx] = now;
    if (after & FLAG_EXPUNGED) this.masterSeq[idx] = this.#append(idx * 2);
    this.assetSeq[idx] = this.#append(idx * 2 + 1);
    return true;
  }

  isVisible(idx: number): boolean {
    return ((this.flags[idx] ?? 0) & (FLAG_HIDDEN | FLAG_DELETED | FLAG_EXPUNGED)) === 0;
  }

  /** A sorted view of asset indexes (cached until the next change). */
  view(name: string, include: (idx: number) => boolean, sortKey: Float64Array | undefined): Int32Array {
    const cached = this.#views.get(name);
    if (cached && cached.version === this.version) return cached.order;
    const picked = new Int32Array(this.count);
    let n = 0;
    for (let i = 0; i < this.count; i++) if (include(i)) picked[n++] = i;
    const order = picked.slice(0, n);
    if (sortKey) order.sort((a, b) => (sortKey[a] ?? 0) - (sortKey[b] ?? 0) || a - b);
    this.#views.set(name, { version: this.version, order });
    return order;
  }
}
