import { describe, expect, it } from "vitest";
import { RecordSchema } from "../../../src/icloud/photos/cloudkit-schemas.ts";
import { isoWithOffset, RecordPairer, toPhotoItem } from "../../../src/icloud/photos/records.ts";
import { isLibraryZone, PhotosSyncStateSchema, zoneKey } from "../../../src/icloud/photos/sync-state.ts";
import { IcplAssetSchema, type PhotoZone } from "../../../src/icloud/photos/types.ts";

const zone: PhotoZone = { database: "private", zoneID: { zoneName: "PrimarySync", ownerRecordName: "_abc" } };
const zoneID = { zoneName: "PrimarySync", ownerRecordName: "_abc", zoneType: "REGULAR_CUSTOM_ZONE" };

function res(size: number, checksum: string) {
  return {
    value: {
      fileChecksum: checksum,
      size,
      wrappingKey: "k==",
      referenceChecksum: "r==",
      downloadURL: `https://cvws.icloud-content.com/B/${checksum}/\${f}?o=1&e=1533044225&k=secret`,
    },
    type: "ASSETID",
  };
}

function master(name: string, filename: string, live = false) {
  return RecordSchema.parse({
    recordName: name,
    recordType: "CPLMaster",
    fields: {
      filenameEnc: { value: Buffer.from(filename).toString("base64"), type: "ENCRYPTED_BYTES" },
      itemType: { value: "public.heic", type: "STRING" },
      resOriginalRes: res(905818, `AWo${name}`),
      resOriginalFileType: { value: "public.heic", type: "STRING" },
      resOriginalWidth: { value: 4032, type: "INT64" },
      resOriginalHeight: { value: 3024, type: "INT64" },
      resJPEGThumbRes: res(65407, `ATy${name}`),
      resJPEGThumbFileType: { value: "public.jpeg", type: "STRING" },
      ...(live
        ? {
            resOriginalVidComplRes: res(2456163, `ASD${name}`),
            resOriginalVidComplFileType: { value: "com.apple.quicktime-movie", type: "STRING" },
          }
        : {}),
    },
    pluginFields: {},
    recordChangeTag: "1",
    created: { timestamp: 1600432879000, userRecordName: "_abc", deviceID: "1" },
    deleted: false,
    zoneID,
  });
}

function asset(name: string, masterName: string, extra: Record<string, unknown> = {}) {
  return RecordSchema.parse({
    recordName: name,
    recordType: "CPLAsset",
    fields: {
      masterRef: { value: { recordName: masterName, action: "DELETE_SELF", zoneID }, type: "REFERENCE" },
      assetDate: { value: 1600432337000, type: "TIMESTAMP" },
      addedDate: { value: 1600432879000, type: "TIMESTAMP" },
      timeZoneOffset: { value: 3600, type: "INT64" },
      isFavorite: { value: 1, type: "INT64" },
      isHidden: { value: 0, type: "INT64" },
      ...extra,
    },
    deleted: false,
    zoneID,
  });
}

describe("CPLMaster + CPLAsset → icpl.asset", () => {
  it("builds the ricloud vocabulary with roles, dates and flags", () => {
    const item = toPhotoItem(master("M1", "IMG_0002.HEIC", true), asset("A1", "M1"), zone);
    expect(IcplAssetSchema.parse(item.asset)).toEqual(item.asset);
    expect(item.asset).toMatchObject({
      id: "A1",
      data_type: "icpl.asset",
      filename: "IMG_0002.HEIC",
      date_created: "2020-09-18T12:32:17Z",
      date_uploaded: "2020-09-18T12:41:19Z",
      local_date_created: "2020-09-18T13:32:17+01:00",
      media_type: "live_photo",
      favorite: true,
      hidden: false,
      master_id: "M1",
      zone: "PrimarySync",
    });
    expect(item.asset.files.map((f) => [f.role, f.data_type, f.extension, f.size])).toEqual([
      ["original", "image", "heic", 905818],
      ["live_video", "video", "mov", 2456163],
      ["thumbnail", "image", "jpg", 65407],
    ]);
    expect(item.asset.files[0]).toMatchObject({ id: "icpl://AWoM1", width: 4032, height: 3024 });
    // URLs stay out of the published vocabulary.
    expect(JSON.stringify(item.asset)).not.toContain("cvws");
    expect(item.downloads.get("icpl://AWoM1")).toContain("cvws.icloud-content.com");
  });

  it("falls back to the record name without filenameEnc and prints negative offsets", () => {
    const m = master("M2", "x");
    delete m.fields?.["filenameEnc"];
    const item = toPhotoItem(m, asset("A2", "M2", { timeZoneOffset: { value: -16200, type: "INT64" } }), zone);
    expect(item.asset.filename).toBe("M2");
    expect(item.asset.local_date_created).toBe("2020-09-18T08:02:17-04:30");
    expect(isoWithOffset(0, 0)).toBe("1970-01-01T00:00:00+00:00");
  });

  it("reads a STRING filename and detects videos", () => {
    const m = master("M3", "x");
    m.fields = {
      ...m.fields,
      filenameEnc: { value: "clip.MOV", type: "STRING" },
      itemType: { value: "com.apple.quicktime-movie", type: "STRING" },
      resOriginalFileType: { value: "com.apple.quicktime-movie", type: "STRING" },
    };
    const item = toPhotoItem(m, asset("A3", "M3", { duration: { value: 12.5, type: "DOUBLE" } }), zone);
    expect(item.asset).toMatchObject({ filename: "clip.MOV", media_type: "video", duration: 12.5 });
  });
});

describe("RecordPairer", () => {
  it("pairs a query page with all masters first", () => {
    const pairer = new RecordPairer();
    const pairs = [master("M1", "a.heic"), master("M2", "b.heic"), asset("A1", "M1"), asset("A2", "M2")].flatMap((r) =>
      pairer.add(r),
    );
    expect(pairs.map(([m, a]) => `${m.recordName}/${a.recordName}`)).toEqual(["M1/A1", "M2/A2"]);
    expect(pairer.orphanAssets()).toEqual([]);
  });

  it("pairs assets that arrive before their master, and keeps orphans", () => {
    const pairer = new RecordPairer();
    expect(pairer.add(asset("A1", "M1"))).toEqual([]);
    expect(pairer.add(asset("A9", "M9"))).toEqual([]);
    expect(pairer.add(RecordSchema.parse({ recordName: "X", recordType: "CPLAlbum", fields: {} }))).toEqual([]);
    const pairs = pairer.add(master("M1", "a.heic"));
    expect(pairs.map(([, a]) => a.recordName)).toEqual(["A1"]);
    expect(pairer.orphanAssets().map((a) => a.recordName)).toEqual(["A9"]);
  });
});

describe("RecordSchema fields", () => {
  it("accepts {value, type} fields as they are (no copy) and refuses any other shape", () => {
    const fields = { itemType: { value: "public.jpeg", type: "STRING" }, extra: { value: 1 } };
    const parsed = RecordSchema.parse({ recordName: "M1", recordType: "CPLMaster", fields });
    expect(parsed.fields).toBe(fields);
    expect(parsed.fields?.["itemType"]).toEqual({ value: "public.jpeg", type: "STRING" });
    for (const bad of [
      [],
      "fields",
      null,
      { itemType: "public.jpeg" },
      { itemType: null },
      { itemType: [1] },
      { itemType: { value: "x", type: 3 } },
      { itemType: { type: "STRING" } },
    ]) {
      expect(RecordSchema.safeParse({ recordName: "M1", fields: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(RecordSchema.safeParse({ recordName: "M1" }).success).toBe(true);
  });
});

describe("sync state", () => {
  it("round-trips through JSON and refuses empty tokens (an empty token means 'caught up' to CloudKit)", () => {
    const state = {
      version: 1,
      databases: { private: "db-1" },
      zones: [{ database: "private", zoneID: { zoneName: "PrimarySync", ownerRecordName: "_abc" }, syncToken: "z-1" }],
    };
    expect(PhotosSyncStateSchema.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
    expect(PhotosSyncStateSchema.safeParse({ ...state, databases: { private: "" } }).success).toBe(false);
    const emptyZoneToken = { ...state, zones: [{ ...state.zones[0], syncToken: "" }] };
    expect(PhotosSyncStateSchema.safeParse(emptyZoneToken).success).toBe(false);
    expect(zoneKey(zone)).toBe("private/PrimarySync/_abc");
    expect(["PrimarySync", "SharedSync-1A2B", "AppLibrary", "CPLSharedLibraryQuota"].map(isLibraryZone)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
