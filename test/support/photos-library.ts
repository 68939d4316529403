/**
 * Checks of a mirrored photo folder against the simulator: what the download index records, which
 * files are on disk, and whether each one holds exactly the bytes the simulator serves.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { resourceSize, resourceStream } from "../../src/simulator/photos/content.ts";
import type { PhotosSimulator } from "../../src/simulator/photos/index.ts";
import {
  decodeAssetRecordName,
  fileChecksumBytes,
  RES_ORIGINAL,
  RES_VID_COMPL,
} from "../../src/simulator/photos/names.ts";
import type { ZoneLibrary } from "../../src/simulator/photos/zone-library.ts";

/** Every file under `root` (relative, `/`-separated), sorted; symbolic links and hard links included. */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

export interface IndexedFile {
  asset: string;
  file: string;
  path: string;
  size: number;
}

/** The download index journal as it stands (files of assets recorded complete, forgotten ones left out). */
export async function readIndex(file: string): Promise<{ files: IndexedFile[]; done: Set<string> }> {
  const text = await readFile(file, "utf8").catch(() => "");
  const files = new Map<string, IndexedFile>();
  const done = new Set<string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const asset = String(json["a"]);
    if (json["done"] === true) done.add(asset);
    else if (json["gone"] === true) {
      done.delete(asset);
      for (const key of [...files.keys()]) if (key.startsWith(`${asset}\n`)) files.delete(key);
    } else {
      files.set(`${asset}\n${String(json["f"])}`, {
        asset,
        file: String(json["f"]),
        path: String(json["p"]),
        size: Number(json["s"]),
      });
    }
  }
  return { files: [...files.values()].filter((f) => done.has(f.asset)), done };
}

async function bytesOf(zone: ZoneLibrary, idx: number, resource: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of resourceStream(zone, idx, resource, 0, resourceSize(zone, idx, resource) - 1))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The zone, asset index and resource a file id (`icpl://<fileChecksum>`) names. */
function locate(control: PhotosSimulator, dsid: string, asset: string, fileId: string) {
  for (const { library: zone } of control.library(dsid)?.zones ?? []) {
    const idx = decodeAssetRecordName(zone, asset);
    if (idx === undefined) continue;
    for (const resource of [RES_ORIGINAL, RES_VID_COMPL]) {
      if (`icpl://${fileChecksumBytes(zone, idx, resource).toString("base64")}` === fileId)
        return { zone, idx, resource };
    }
  }
  return undefined;
}

/**
 * The library holds exactly `expected` (asset record names) once each: every indexed file on disk
 * byte for byte as the simulator serves it, no `.part` left, and no photo file the index does not know.
 */
export async function expectMirrored(options: {
  control: PhotosSimulator;
  dsid: string;
  library: string;
  indexFile: string;
  expected: readonly string[];
  /** Top-level folders that are not downloads (e.g. `_Albums`, `_Archive`). */
  ignore?: readonly string[];
}): Promise<IndexedFile[]> {
  const { files, done } = await readIndex(options.indexFile);
  expect([...done].sort()).toEqual([...options.expected].sort());
  const onDisk = (await listFiles(options.library)).filter(
    (f) => !(options.ignore ?? []).includes(f.split("/")[0] ?? ""),
  );
  expect(onDisk.filter((f) => f.endsWith(".part"))).toEqual([]);
  expect(onDisk).toEqual(files.map((f) => f.path).sort());
  for (const file of files) {
    const where = locate(options.control, options.dsid, file.asset, file.file);
    expect(where, `${file.path} is a file of ${file.asset}`).toBeDefined();
    if (!where) continue;
    const actual = await readFile(path.join(options.library, file.path));
    expect(actual.equals(await bytesOf(where.zone, where.idx, where.resource)), `${file.path} byte for byte`).toBe(
      true,
    );
  }
  return files;
}
