import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngineError } from "../../../src/errors.ts";
import { CORE_DATA_EPOCH_MS, toCoreDataSeconds } from "../../../src/icloud/calls/macos-rows.ts";
import { MacCallsSource } from "../../../src/icloud/calls/macos-source.ts";
import { CallkitCallSchema } from "../../../src/icloud/calls/types.ts";

interface Row {
  id?: string;
  address?: string | Uint8Array;
  name?: string | null;
  date: Date;
  duration?: number;
  originated?: 0 | 1;
  answered?: 0 | 1;
  callType?: number;
  provider?: string;
  country?: string | null;
}

const FULL_SCHEMA = `CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZANSWERED INTEGER, ZCALLTYPE INTEGER, ZORIGINATED INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT,
  ZADDRESS VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR, ZLOCATION VARCHAR)`;

let dir: string;
let counter = 0;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "calls-macos-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function createDb(name = "CallHistory.storedata", storeUuid = "STORE-A", schema = FULL_SCHEMA): string {
  const path = join(dir, name);
  const db = new DatabaseSync(path);
  db.exec(schema);
  db.exec("CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB)");
  db.prepare("INSERT INTO Z_METADATA VALUES (1, ?, NULL)").run(storeUuid);
  db.close();
  return path;
}

function insert(path: string, rows: readonly Row[]): void {
  const db = new DatabaseSync(path);
  const statement = db.prepare(
    `INSERT INTO ZCALLRECORD (ZUNIQUE_ID, ZADDRESS, ZNAME, ZDATE, ZDURATION, ZORIGINATED, ZANSWERED, ZCALLTYPE,
      ZSERVICE_PROVIDER, ZISO_COUNTRY_CODE) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const row of rows) {
    counter += 1;
    statement.run(
      row.id ?? `UID-${counter}`,
      row.address ?? `+4930${counter}`,
      row.name === undefined ? null : row.name,
      toCoreDataSeconds(row.date),
      row.duration ?? 0,
      row.originated ?? 0,
      row.answered ?? 1,
      row.callType ?? 1,
      row.provider ?? "com.apple.Telephony",
      row.country === undefined ? "de" : row.country,
    );
  }
  db.close();
}

const base = Date.parse("2025-03-01T12:00:00.000Z");
const at = (minutes: number) => new Date(base + minutes * 60_000);

describe("MacCallsSource mapping", () => {
  it("maps call types, directions, answered/missed and Core Data dates", async () => {
    const path = createDb();
    insert(path, [
      { id: "phone-in", date: at(0), duration: 61.5, originated: 0, answered: 1, callType: 1, name: "Alice" },
      { id: "phone-missed", date: at(1), originated: 0, answered: 0, callType: 1 },
      { id: "ft-video-out", date: at(2), originated: 1, answered: 1, callType: 8, provider: "com.apple.FaceTime" },
      {
        id: "ft-audio-out-unanswered",
        date: at(3),
        originated: 1,
        answered: 0,
        callType: 16,
        provider: "com.apple.FaceTime",
      },
      { id: "third-party", date: at(4), callType: 0, provider: "net.whatsapp.WhatsApp", country: null },
    ]);
    const calls = await new MacCallsSource(path).calls();
    const byId = new Map(calls.map((call) => [call.id, call]));
    for (const call of calls) CallkitCallSchema.parse(call);
    expect(calls.map((call) => call.id)).toEqual([
      "third-party",
      "ft-audio-out-unanswered",
      "ft-video-out",
      "phone-missed",
      "phone-in",
    ]);
    expect(byId.get("phone-in")).toMatchObject({
      data_type: "callkit.call",
      name: "Alice",
      date: "2025-03-01T12:00:00.000Z",
      duration: 61.5,
      direction: "incoming",
      answered: true,
      missed: false,
      call_type: "phone",
      service_provider: "com.apple.Telephony",
      iso_country_code: "de",
    });
    expect(byId.get("phone-missed")).toMatchObject({ direction: "incoming", answered: false, missed: true });
    expect(byId.get("ft-video-out")).toMatchObject({
      call_type: "facetime_video",
      direction: "outgoing",
      missed: false,
    });
    expect(byId.get("ft-audio-out-unanswered")).toMatchObject({
      call_type: "facetime_audio",
      answered: false,
      missed: false,
    });
    expect(byId.get("third-party")).toMatchObject({
      call_type: "other",
      service_provider: "net.whatsapp.WhatsApp",
      iso_country_code: null,
      name: null,
    });
  });

  it("converts ZDATE from the 2001-01-01 reference date, with fractions of a second", async () => {
    const path = createDb();
    const db = new DatabaseSync(path);
    db.exec(
      "INSERT INTO ZCALLRECORD (ZUNIQUE_ID, ZADDRESS, ZDATE) VALUES ('epoch', 'x', 0), ('later', 'y', 762523200.25)",
    );
    db.close();
    const calls = await new MacCallsSource(path).calls();
    expect(CORE_DATA_EPOCH_MS).toBe(978_307_200_000);
    expect(calls.find((call) => call.id === "epoch")?.date).toBe("2001-01-01T00:00:00.000Z");
    expect(calls.find((call) => call.id === "later")?.date).toBe("2025-03-01T12:00:00.250Z");
  });

  it("tolerates older schemas without call type, provider, country or unique id, and BLOB addresses", async () => {
    const path = createDb(
      "old.storedata",
      "OLD",
      "CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZADDRESS BLOB, ZDATE TIMESTAMP, ZDURATION FLOAT, ZORIGINATED INTEGER, ZANSWERED INTEGER)",
    );
    const db = new DatabaseSync(path);
    db.prepare(
      "INSERT INTO ZCALLRECORD (ZADDRESS, ZDATE, ZDURATION, ZORIGINATED, ZANSWERED) VALUES (?, ?, 12, 1, 1)",
    ).run(new TextEncoder().encode("+441234"), toCoreDataSeconds(at(0)));
    db.close();
    const [call] = await new MacCallsSource(path).calls();
    expect(call).toEqual({
      id: "zpk-1",
      data_type: "callkit.call",
      address: "+441234",
      name: null,
      date: "2025-03-01T12:00:00.000Z",
      duration: 12,
      direction: "outgoing",
      answered: true,
      missed: false,
      call_type: "other",
      service_provider: "",
      iso_country_code: null,
    });
  });

  it("honours since and limit, newest first", async () => {
    const path = createDb();
    insert(
      path,
      Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, date: at(i) })),
    );
    const source = new MacCallsSource(path);
    expect((await source.calls({ limit: 3 })).map((call) => call.id)).toEqual(["c9", "c8", "c7"]);
    expect((await source.calls({ since: at(7) })).map((call) => call.id)).toEqual(["c9", "c8"]);
  });
});

describe("MacCallsSource cursor", () => {
  it("starts with the newest 50 calls, oldest first, then returns only calls added since", async () => {
    const path = createDb();
    insert(
      path,
      Array.from({ length: 60 }, (_, i) => ({ id: `c${i}`, date: at(i) })),
    );
    const source = new MacCallsSource(path);
    const first = await source.newCalls(undefined);
    expect(first.calls).toHaveLength(50);
    expect(first.calls[0]?.id).toBe("c10");
    expect(first.calls.at(-1)?.id).toBe("c59");

    expect((await source.newCalls(first.cursor)).calls).toEqual([]);
    // A call synced late from another device has an older date but a new primary key: still reported.
    insert(path, [
      { id: "new-1", date: at(100) },
      { id: "late", date: at(5) },
    ]);
    const second = await source.newCalls(first.cursor);
    expect(second.calls.map((call) => call.id)).toEqual(["late", "new-1"]);
    // A restart with the stored cursor returns nothing twice.
    const restarted = new MacCallsSource(path);
    expect((await restarted.newCalls(second.cursor)).calls).toEqual([]);
  });

  it("never repeats a call across many polls with a small batch size", async () => {
    const path = createDb();
    const source = new MacCallsSource(path, { batchSize: 3 });
    let cursor = (await source.newCalls(undefined)).cursor;
    const seen: string[] = [];
    for (let round = 0; round < 8; round++) {
      insert(
        path,
        Array.from({ length: round }, (_, i) => ({ id: `r${round}-${i}`, date: at(round * 10 + i) })),
      );
      const result = await source.newCalls(cursor);
      expect(result.calls.length).toBeLessThanOrEqual(3);
      seen.push(...result.calls.map((call) => call.id));
      cursor = result.cursor;
    }
    for (;;) {
      const result = await source.newCalls(cursor);
      if (result.calls.length === 0) break;
      seen.push(...result.calls.map((call) => call.id));
      cursor = result.cursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(28);
  });

  it("skips an unreadable row without stalling or losing the rows after it", async () => {
    const path = createDb();
    insert(path, [{ id: "known", date: at(0) }]);
    const source = new MacCallsSource(path, { batchSize: 2 });
    let { cursor } = await source.newCalls(undefined);
    insert(path, [{ id: "a", date: at(1) }]);
    const db = new DatabaseSync(path);
    db.exec("INSERT INTO ZCALLRECORD (ZUNIQUE_ID, ZADDRESS, ZDATE) VALUES ('no-date', 'x', NULL)");
    db.close();
    insert(path, [
      { id: "b", date: at(2) },
      { id: "c", date: at(3) },
    ]);
    const seen: string[] = [];
    for (let round = 0; round < 5; round++) {
      const result = await source.newCalls(cursor);
      seen.push(...result.calls.map((call) => call.id));
      cursor = result.cursor;
    }
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("after the store was recreated returns only calls newer than the last one seen", async () => {
    const path = createDb("a.storedata", "STORE-A");
    insert(path, [
      { id: "old-1", date: at(0) },
      { id: "old-2", date: at(10) },
      { id: "old-3", date: at(20) },
    ]);
    const { cursor } = await new MacCallsSource(path).newCalls(undefined);
    rmSync(path);
    createDb("a.storedata", "STORE-B");
    insert(path, [
      { id: "old-2", date: at(10) },
      { id: "old-3", date: at(20) },
      { id: "fresh", date: at(30) },
    ]);
    const result = await new MacCallsSource(path).newCalls(cursor);
    expect(result.calls.map((call) => call.id)).toEqual(["fresh"]);
    expect((await new MacCallsSource(path).newCalls(result.cursor)).calls).toEqual([]);
  });

  it("rejects a cursor of another source kind", async () => {
    const path = createDb();
    const foreign = Buffer.from(JSON.stringify({ k: "cloud", token: "x", date: 0 })).toString("base64url");
    await expect(new MacCallsSource(path).newCalls(foreign)).rejects.toMatchObject({ code: "INVALID_STATE" });
  });
});

describe("MacCallsSource errors", () => {
  it("reports a missing file clearly", async () => {
    const source = new MacCallsSource(join(dir, "nope", "CallHistory.storedata"));
    const error = await source.calls().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("No CallHistory database at"),
    });
  });

  it("reports a database without ZCALLRECORD", async () => {
    const path = join(dir, "other.sqlite");
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE t (a)");
    db.close();
    await expect(new MacCallsSource(path).newCalls(undefined)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("not a CallHistory database"),
    });
  });

  it("reports a file that is not SQLite", async () => {
    const path = join(dir, "garbage.storedata");
    writeFileSync(path, "not a database ".repeat(200));
    await expect(new MacCallsSource(path).calls()).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("reads a WAL-mode database while macOS holds a write transaction open", async () => {
    const path = createDb();
    const writer = new DatabaseSync(path);
    writer.exec("PRAGMA journal_mode=WAL");
    insert(path, [{ id: "committed", date: at(0) }]);
    writer.exec("BEGIN IMMEDIATE; INSERT INTO ZCALLRECORD (ZUNIQUE_ID, ZADDRESS, ZDATE) VALUES ('pending', 'x', 1);");
    try {
      expect((await new MacCallsSource(path, { busyTimeoutMs: 50 }).calls()).map((call) => call.id)).toEqual([
        "committed",
      ]);
    } finally {
      writer.exec("COMMIT");
      writer.close();
    }
  });

  it("reports a locked database as retryable, without crashing", async () => {
    const path = createDb();
    insert(path, [{ date: at(0) }]);
    const writer = new DatabaseSync(path);
    writer.exec("BEGIN EXCLUSIVE; INSERT INTO ZCALLRECORD (ZADDRESS, ZDATE) VALUES ('x', 1);");
    try {
      const error = await new MacCallsSource(path, { busyTimeoutMs: 50 }).calls().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
    } finally {
      writer.exec("ROLLBACK");
      writer.close();
    }
    expect(await new MacCallsSource(path).calls()).toHaveLength(1);
  });
});
