import { appendFile, chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
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

  const journal = () => path.join(dir, "state", "downloads.jsonl");
  const lines = async () =>
    (await readFile(journal(), "utf8"))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as unknown);

  it("appends one short line per file and one per finished asset, never twice for an asset", async () => {
    const index = await DownloadIndex.open(journal());
    await index.recordFile("A1", "f1", { path: "IMG_1.HEIC", size: 10 });
    await index.recordFile("A1", "f2", { path: "IMG_1_HEVC.MOV", size: 11 });
    await index.recordAsset("A1");
    await index.recordAsset("A1");
    expect(index.hasAsset("A1")).toBe(true);
    expect(index.assetCount).toBe(1);
    expect(index.file("A1", "f1")).toEqual({ path: "IMG_1.HEIC", size: 10 });
    expect(index.file("A1", "f2")).toEqual({ path: "IMG_1_HEVC.MOV", size: 11 });
    expect(index.file("A1", "f3")).toBeUndefined();
    await index.close();
    expect(await lines()).toEqual([
      { a: "A1", f: "f1", p: "IMG_1.HEIC", s: 10 },
      { a: "A1", f: "f2", p: "IMG_1_HEVC.MOV", s: 11 },
      { a: "A1", done: true },
    ]);
  });

  it("leaves a clean journal alone (blank lines too), and compacts one with torn, foreign or repeated lines", async () => {
    const first = await DownloadIndex.open(journal());
    await first.recordFile("A1", "f1", { path: "IMG_1.HEIC", size: 10 });
    await first.recordAsset("A1");
    await first.close();
    await appendFile(journal(), "\n   \n");
    const clean = (await stat(journal())).ino;
    await (await DownloadIndex.open(journal())).close();
    expect((await stat(journal())).ino).toBe(clean);

    await appendFile(
      journal(),
      [
        '{"a":"A1","f":"f1","p":"IMG_1.HEIC","s":10}', // again, after a restart
        '{"a":"A2","unknown":true}',
        "[1,2]",
        '{"a":"A2","f":"f9","p":"IMG_9',
      ].join("\n"),
    );
    const index = await DownloadIndex.open(journal());
    await index.close();
    expect((await stat(journal())).ino).not.toBe(clean);
    expect(await lines()).toEqual([
      { a: "A1", f: "f1", p: "IMG_1.HEIC", s: 10 },
      { a: "A1", done: true },
    ]);
    expect((await stat(journal())).mode & 0o777).toBe(0o600);
    expect(await readdir(path.dirname(journal()))).toEqual(["downloads.jsonl"]);
  });

  it("keeps 20 000 assets apart (shared buckets), with icpl:// and other file ids, across updates, forgets and a restart", async () => {
    const count = 20_000;
    const fileId = (i: number) => (i % 3 === 0 ? `plain-${i}` : `icpl://AbC${i}+/=`);
    const index = await DownloadIndex.open(journal());
    for (let i = 0; i < count; i++) {
      await index.recordFile(`asset-${i}`, fileId(i), { path: `2024/05/IMG_${i}.HEIC`, size: i });
      if (i % 2 === 0) await index.recordFile(`asset-${i}`, `icpl://v${i}`, { path: `IMG_${i}.MOV`, size: 1 });
      if (i % 5 !== 0) await index.recordAsset(`asset-${i}`);
    }
    // A file recorded again under another name replaces its line; other assets of the bucket stay.
    for (let i = 0; i < count; i += 11) {
      await index.recordFile(`asset-${i}`, fileId(i), { path: `2024/05/IMG_${i}-${i}.HEIC`, size: i });
    }
    for (let i = 0; i < count; i += 7) await index.forget(`asset-${i}`);
    const expectFiles = (reopened: DownloadIndex) => {
      for (let i = 0; i < count; i++) {
        const id = `asset-${i}`;
        if (i % 7 === 0) {
          expect(reopened.filesOf(id)).toEqual([]);
          expect(reopened.hasAsset(id)).toBe(false);
          continue;
        }
        const path = i % 11 === 0 ? `2024/05/IMG_${i}-${i}.HEIC` : `2024/05/IMG_${i}.HEIC`;
        const files = [{ fileId: fileId(i), file: { path, size: i } }];
        if (i % 2 === 0) files.push({ fileId: `icpl://v${i}`, file: { path: `IMG_${i}.MOV`, size: 1 } });
        expect(reopened.filesOf(id)).toEqual(files);
        expect(reopened.file(id, fileId(i))).toEqual({ path, size: i });
        expect(reopened.hasAsset(id)).toBe(i % 5 !== 0);
      }
      const done = Array.from({ length: count }, (_, i) => i).filter((i) => i % 7 !== 0 && i % 5 !== 0);
      expect(reopened.assetCount).toBe(done.length);
      expect(reopened.assetIds().sort()).toEqual(done.map((i) => `asset-${i}`).sort());
    };
    expectFiles(index);
    await index.close();
    const reopened = await DownloadIndex.open(journal());
    expectFiles(reopened);
    await reopened.close();
    // Compacted on that open (the forgets left lines behind), in several slices: read back, it is the same.
    const compacted = await lines();
    const kept = Array.from({ length: count }, (_, i) => i).filter((i) => i % 7 !== 0);
    const fileLines = kept.length + kept.filter((i) => i % 2 === 0).length;
    expect(compacted).toHaveLength(fileLines + kept.filter((i) => i % 5 !== 0).length);
    const third = await DownloadIndex.open(journal());
    expectFiles(third);
    await third.close();
  });

  it("keeps file ids apart: icpl:// alone, icpl:// inside or at the end of an id, other ids", async () => {
    const ids = ["icpl://", "plain-icpl://", "icpl://x", "xicpl://y", "icpl:/x", "", "\u0001"];
    const index = await DownloadIndex.open(journal());
    for (const [n, id] of ids.entries()) await index.recordFile("A1", id, { path: `P${n}`, size: n });
    const expected = ids.map((id, n) => ({ fileId: id, file: { path: `P${n}`, size: n } }));
    expect(index.filesOf("A1")).toEqual(expected);
    for (const [n, id] of ids.entries()) expect(index.file("A1", id)).toEqual({ path: `P${n}`, size: n });
    await index.close();
    await appendFile(journal(), "{torn\n");
    const reopened = await DownloadIndex.open(journal());
    expect(reopened.filesOf("A1")).toEqual(expected);
    await reopened.close();
    const compacted = await DownloadIndex.open(journal());
    expect(compacted.filesOf("A1")).toEqual(expected);
    await compacted.close();
  });

  it("counts replayed lines exactly: an updated file, a second file, a repeated done line, a gone line for nothing", async () => {
    const index = await DownloadIndex.open(journal());
    await index.recordFile("A1", "icpl://f1", { path: "IMG_1.HEIC", size: 10 });
    await index.recordFile("A1", "icpl://f2", { path: "IMG_1.MOV", size: 5 });
    await index.recordFile("A1", "f3", { path: "IMG_1.AAE", size: 1 });
    await index.recordAsset("A1");
    await index.close();
    // A clean journal with several files per asset is left alone.
    const clean = (await stat(journal())).ino;
    await (await DownloadIndex.open(journal())).close();
    expect((await stat(journal())).ino).toBe(clean);

    for (const extra of [
      { a: "A1", f: "icpl://f1", p: "IMG_1-1.HEIC", s: 11 }, // the same file again: one line too many
      { a: "A1", done: true }, // done again
      { a: "NEVER", gone: true }, // forgetting an asset never recorded
    ]) {
      const before = (await stat(journal())).ino;
      await appendFile(journal(), `${JSON.stringify(extra)}\n`);
      const reopened = await DownloadIndex.open(journal());
      expect(reopened.assetCount).toBe(1);
      expect(reopened.assetIds()).toEqual(["A1"]);
      expect(reopened.file("A1", "icpl://f1")).toEqual({ path: "IMG_1-1.HEIC", size: 11 });
      expect(reopened.filesOf("A1")).toHaveLength(3);
      await reopened.close();
      expect((await stat(journal())).ino).not.toBe(before);
      expect(await lines()).toEqual([
        { a: "A1", f: "icpl://f1", p: "IMG_1-1.HEIC", s: 11 },
        { a: "A1", f: "icpl://f2", p: "IMG_1.MOV", s: 5 },
        { a: "A1", f: "f3", p: "IMG_1.AAE", s: 1 },
        { a: "A1", done: true },
      ]);
    }
  });

  it("refuses ids and paths holding its separators, and skips such lines on disk", async () => {
    const index = await DownloadIndex.open(journal());
    for (const bad of ["A\t1", "A\n1", "A\u001e1", "A\u001f1"]) {
      await expect(index.recordFile(bad, "f1", { path: "IMG_1.HEIC", size: 1 })).rejects.toMatchObject({
        code: "STORE_FAILED",
      });
      await expect(index.recordFile("A1", bad, { path: "IMG_1.HEIC", size: 1 })).rejects.toMatchObject({
        code: "STORE_FAILED",
      });
      await expect(index.recordFile("A1", "f1", { path: bad, size: 1 })).rejects.toMatchObject({
        code: "STORE_FAILED",
        message: "an asset id, file id or path with a separator",
      });
      await expect(index.recordAsset(bad)).rejects.toMatchObject({
        code: "STORE_FAILED",
        message: "an asset id with a separator",
      });
    }
    await index.recordFile("A1", "f1", { path: "IMG_1.HEIC", size: 1 });
    await index.close();
    await appendFile(
      journal(),
      [
        { a: "A\u001e2", f: "f2", p: "IMG_2.HEIC", s: 2 },
        { a: "A\u001f3", done: true },
        { a: "A4", f: "f\t4", p: "IMG_4.HEIC", s: 4 },
        { a: "A5", f: "f5", p: "IMG\u001e5.HEIC", s: 5 },
      ]
        .map((line) => `${JSON.stringify(line)}\n`)
        .join(""),
    );
    const reopened = await DownloadIndex.open(journal());
    expect(reopened.filesOf("A1")).toEqual([{ fileId: "f1", file: { path: "IMG_1.HEIC", size: 1 } }]);
    expect(reopened.assetIds()).toEqual([]);
    expect(reopened.filesOf("A\u001e2")).toEqual([]);
    expect(reopened.hasAsset("A\u001f3")).toBe(false);
    expect(reopened.filesOf("A4")).toEqual([]);
    expect(reopened.filesOf("A5")).toEqual([]);
    await reopened.close();
    expect(await lines()).toEqual([{ a: "A1", f: "f1", p: "IMG_1.HEIC", s: 1 }]);
  });

  it("a journal of nothing but a torn line compacts to an empty file", async () => {
    await DownloadIndex.open(journal()).then((index) => index.close());
    await writeFile(journal(), '{"a":"A1","f":"f');
    await (await DownloadIndex.open(journal())).close();
    expect(await readFile(journal(), "utf8")).toBe("");
  });

  it("refuses lines once closed; closing twice is fine", async () => {
    const index = await DownloadIndex.open(journal());
    await index.close();
    await expect(index.recordFile("A1", "f1", { path: "x", size: 1 })).rejects.toMatchObject({
      code: "STORE_FAILED",
      message: "download index is closed",
    });
    await expect(index.recordAsset("A2")).rejects.toMatchObject({ code: "STORE_FAILED" });
    await index.close();
  });

  it.skipIf(process.platform !== "linux")("leaves no file open after compacting and closing", async () => {
    await DownloadIndex.open(journal()).then((index) => index.close());
    const before = (await readdir("/proc/self/fd")).length;
    for (let i = 0; i < 3; i++) {
      await appendFile(journal(), '{"torn');
      await (await DownloadIndex.open(journal())).close();
    }
    expect((await readdir("/proc/self/fd")).length).toBeLessThanOrEqual(before);
  });

  it.skipIf(process.getuid?.() === 0)("a journal it cannot read is an error, not an empty index", async () => {
    await DownloadIndex.open(journal()).then((index) => index.close());
    await chmod(journal(), 0o200);
    await expect(DownloadIndex.open(journal())).rejects.toMatchObject({ code: "EACCES" });
  });
});
