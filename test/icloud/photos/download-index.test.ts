import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DownloadIndex } from "../../../src/icloud/photos/download-index.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "dl-index-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("DownloadIndex", () => {
  it("survives a restart and a line torn by a crash, then compacts", async () => {
    const file = path.join(dir, "state", "downloads.jsonl");
    const first = await DownloadIndex.open(file);
    await first.recordFile("A1", "icpl://f1", { path: "2020/01/02/IMG_1.HEIC", size: 10 });
    await first.recordAsset("A1");
    await first.recordFile("A2", "icpl://f2", { path: "IMG_2.HEIC", size: 20 });
    await first.recordAsset("A1");
    await first.close();
    await appendFile(file, '{"a":"A3","f":"icpl://f3","p":"IMG_3');

    const second = await DownloadIndex.open(file);
    expect(second.hasAsset("A1")).toBe(true);
    expect(second.hasAsset("A2")).toBe(false);
    expect(second.file("A2", "icpl://f2")).toEqual({ path: "IMG_2.HEIC", size: 20 });
    expect(second.file("A3", "icpl://f3")).toBeUndefined();
    expect(second.assetCount).toBe(1);
    await second.close();
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => JSON.parse(line))).toBe(true);
  });

  it("lists an asset's files and forgets an archived asset for good, across a restart and a compaction", async () => {
    const file = path.join(dir, "state", "downloads.jsonl");
    const first = await DownloadIndex.open(file);
    await first.recordFile("A1", "icpl://f1", { path: "IMG_1.HEIC", size: 10 });
    await first.recordFile("A1", "icpl://v1", { path: "IMG_1_HEVC.MOV", size: 5 });
    await first.recordAsset("A1");
    await first.recordFile("A2", "icpl://f2", { path: "IMG_2.HEIC", size: 20 });
    await first.recordAsset("A2");
    expect(first.filesOf("A1")).toEqual([
      { fileId: "icpl://f1", file: { path: "IMG_1.HEIC", size: 10 } },
      { fileId: "icpl://v1", file: { path: "IMG_1_HEVC.MOV", size: 5 } },
    ]);
    await first.forget("A1");
    await first.forget("A1");
    await first.forget("never-seen");
    expect(first.hasAsset("A1")).toBe(false);
    expect(first.filesOf("A1")).toEqual([]);
    expect(first.assetIds()).toEqual(["A2"]);
    await first.close();
    expect((await readFile(file, "utf8")).trim().split("\n").at(-1)).toBe('{"a":"A1","gone":true}');

    const second = await DownloadIndex.open(file);
    expect(second.hasAsset("A1")).toBe(false);
    expect(second.file("A1", "icpl://f1")).toBeUndefined();
    expect(second.hasAsset("A2")).toBe(true);
    await second.recordFile("A1", "icpl://f1", { path: "IMG_1-10.HEIC", size: 10 });
    await second.close();
    // Compacted on open: the forgotten asset left no line behind.
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines.some((line) => line.includes('"gone"'))).toBe(false);
    const third = await DownloadIndex.open(file);
    expect(third.filesOf("A1")).toEqual([{ fileId: "icpl://f1", file: { path: "IMG_1-10.HEIC", size: 10 } }]);
    await third.close();
  });
});
