import { describe, expect, it } from "vitest";
import { AccountLibrary } from "../../../src/simulator/photos/account-library.ts";
import { resourceSize, resourceStream, thumbnailBytes } from "../../../src/simulator/photos/content.ts";
import { FLAG_EXPUNGED, FLAG_HIDDEN } from "../../../src/simulator/photos/item-types.ts";
import {
  assetRecordName,
  decodeAssetRecordName,
  decodeDownloadToken,
  decodeMasterRecordName,
  downloadToken,
  masterRecordName,
  RES_ORIGINAL,
  RES_THUMB,
} from "../../../src/simulator/photos/names.ts";
import { assetRecord, masterRecord } from "../../../src/simulator/photos/records.ts";
import { parsePhotosScenario } from "../../../src/simulator/photos/scenario.ts";
import { decodeSyncToken, encodeSyncToken } from "../../../src/simulator/photos/sync-token.ts";

const NOW = Date.UTC(2026, 0, 15, 12);
const rc = { origin: "http://sim.test", dsid: "1001", now: NOW };

function build(raw: unknown, dsid = "1001") {
  return new AccountLibrary(dsid, parsePhotosScenario(raw), NOW);
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Walks JPEG segments up to SOS; returns marker list (throws on malformed structure). */
function jpegMarkers(bytes: Buffer): number[] {
  expect(bytes[0]).toBe(0xff);
  expect(bytes[1]).toBe(0xd8);
  const markers: number[] = [];
  let pos = 2;
  while (pos < bytes.length) {
    expect(bytes[pos]).toBe(0xff);
    const marker = bytes[pos + 1] ?? 0;
    markers.push(marker);
    const length = bytes.readUInt16BE(pos + 2);
    pos += 2 + length;
    if (marker === 0xda) break;
  }
  expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  return markers;
}

describe("photo library generator", () => {
  it("is deterministic: same seed gives the same records, another seed differs", () => {
    const a = build({ count: 300, seed: 7, hidden_count: 5, deleted_count: 3, hostile_filenames: true }).zones[0]
      ?.library;
    const b = build({ count: 300, seed: 7, hidden_count: 5, deleted_count: 3, hostile_filenames: true }).zones[0]
      ?.library;
    const c = build({ count: 300, seed: 8 }).zones[0]?.library;
    if (!a || !b || !c) throw new Error("no zone");
    for (const idx of [0, 1, 150, 299]) {
      expect(masterRecord(a, idx, rc)).toEqual(masterRecord(b, idx, rc));
      expect(assetRecord(a, idx, rc)).toEqual(assetRecord(b, idx, rc));
    }
    expect(masterRecordName(a, 0)).not.toBe(masterRecordName(c, 0));
  });

  it("builds realistic CPLMaster/CPLAsset pairs", () => {
    const zone = build({
      count: 400,
      seed: 3,
      live_photo_ratio: 0.5,
      video_ratio: 0.1,
      hidden_count: 10,
      deleted_count: 10,
    }).zones[0]?.library;
    if (!zone) throw new Error("no zone");
    const uti = new Set<string>();
    let live = 0;
    let hidden = 0;
    for (let idx = 0; idx < zone.count; idx++) {
      const master = masterRecord(zone, idx, rc);
      const asset = assetRecord(zone, idx, rc);
      expect(master.recordType).toBe("CPLMaster");
      expect(asset.recordType).toBe("CPLAsset");
      const ref = asset.fields?.masterRef?.value as { recordName: string };
      expect(ref.recordName).toBe(master.recordName);
      const original = master.fields?.resOriginalRes?.value as {
        size: number;
        downloadURL: string;
        fileChecksum: string;
      };
      expect(original.size).toBeGreaterThanOrEqual(150_000);
      expect(original.downloadURL).toContain(`/${"$"}{f}?`);
      uti.add(String(master.fields?.itemType?.value));
      if (master.fields?.resOriginalVidComplRes) live++;
      if (asset.fields?.isHidden?.value === 1) hidden++;
      expect(master.zoneID.zoneName).toBe("PrimarySync");
    }
    expect(uti).toContain("public.heic");
    expect(uti).toContain("com.apple.quicktime-movie");
    expect(live).toBeGreaterThan(50);
    expect(hidden).toBe(10);
  });

  it("decodes record names and download tokens without an in-memory map", () => {
    const zone = build({ count: 1000, seed: 11 }).zones[0]?.library;
    if (!zone) throw new Error("no zone");
    for (const idx of [0, 17, 999]) {
      expect(decodeAssetRecordName(zone, assetRecordName(zone, idx))).toBe(idx);
      expect(decodeMasterRecordName(zone, masterRecordName(zone, idx))).toBe(idx);
      expect(decodeDownloadToken(zone, downloadToken(zone, idx, RES_THUMB))).toEqual({ idx, resource: RES_THUMB });
    }
    expect(decodeAssetRecordName(zone, "00000000-0000-4000-8000-000000000000")).toBeUndefined();
    expect(decodeMasterRecordName(zone, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA")).toBeUndefined();
  });

  it("serves thumbnails as valid JPEGs of the declared size and originals of the declared size", async () => {
    const zone = build({ count: 200, seed: 5, original_size: { min: 1000, max: 300_000 } }).zones[0]?.library;
    if (!zone) throw new Error("no zone");
    for (let idx = 0; idx < 200; idx++) {
      const thumb = thumbnailBytes(zone, idx);
      expect(thumb.length).toBe(resourceSize(zone, idx, RES_THUMB));
      if (idx < 10) expect(jpegMarkers(thumb)).toEqual(expect.arrayContaining([0xe0, 0xfe, 0xdb, 0xc0, 0xc4, 0xda]));
    }
    const size = resourceSize(zone, 3, RES_ORIGINAL);
    const full = await collect(resourceStream(zone, 3, RES_ORIGINAL, 0, size - 1));
    expect(full.length).toBe(size);
    const again = await collect(resourceStream(zone, 3, RES_ORIGINAL, 0, size - 1));
    expect(again.equals(full)).toBe(true);
    const part = await collect(resourceStream(zone, 3, RES_ORIGINAL, 500, 700));
    expect(part.equals(full.subarray(500, 701))).toBe(true);
  });

  it("keeps sync tokens monotonic and rejects foreign or future ones", () => {
    const token = encodeSyncToken(42, 10);
    expect(token).toMatch(/^AQAAAAAAAAAK/);
    expect(decodeSyncToken(42, token, 10)).toBe(10);
    expect(decodeSyncToken(42, token, 9)).toBeUndefined();
    expect(decodeSyncToken(43, token, 10)).toBeUndefined();
    expect(decodeSyncToken(42, "garbage", 10)).toBeUndefined();
  });

  it("logs runtime changes: hide then expunge move the records to the change-log head", () => {
    const library = build({ count: 10, seed: 1 });
    const zone = library.zones[0]?.library;
    if (!zone) throw new Error("no zone");
    const head = zone.head;
    expect(head).toBe(20);
    library.changeAsset(zone, 2, "hide", NOW + 1);
    expect((zone.flags[2] ?? 0) & FLAG_HIDDEN).toBeTruthy();
    expect(zone.assetSeq[2]).toBe(21);
    library.changeAsset(zone, 2, "expunge", NOW + 2);
    expect((zone.flags[2] ?? 0) & FLAG_EXPUNGED).toBeTruthy();
    expect(zone.masterSeq[2]).toBe(22);
    expect(zone.assetSeq[2]).toBe(23);
    expect(assetRecord(zone, 2, rc)).toEqual({
      recordName: assetRecordName(zone, 2),
      deleted: true,
      zoneID: zone.zone,
    });
  });

  it("generates 200 000 assets quickly and compactly (numbers printed, not asserted tightly)", () => {
    const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const heapBefore = memory();
    const started = performance.now();
    const library = build({
      count: 200_000,
      seed: 99,
      hidden_count: 100,
      deleted_count: 100,
      shared_library: { count: 1000 },
    });
    const zone = library.zones[0]?.library;
    if (!zone) throw new Error("no zone");
    const order = zone.view("assetDate:visible", (i) => zone.isVisible(i), zone.assetDate);
    const elapsed = performance.now() - started;
    const heapMb = (memory() - heapBefore) / 1e6;
    console.log(
      `200k library: ${elapsed.toFixed(0)} ms, heap+buffers +${heapMb.toFixed(1)} MB, visible ${order.length}`,
    );
    expect(order.length).toBe(200_000 - 200);
    expect(elapsed).toBeLessThan(20_000);
    const recordsStarted = performance.now();
    for (let idx = 0; idx < 1000; idx++) {
      masterRecord(zone, idx, rc);
      assetRecord(zone, idx, rc);
    }
    console.log(`1000 record pairs built in ${(performance.now() - recordsStarted).toFixed(0)} ms`);
  });
});
