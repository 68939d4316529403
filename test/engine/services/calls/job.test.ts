import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { CallsJob } from "../../../../src/engine/services/calls/job.ts";
import { CallsStateSchema } from "../../../../src/engine/services/calls/state.ts";
import { encodeCursor } from "../../../../src/icloud/calls/cursor.ts";
import { toCoreDataSeconds } from "../../../../src/icloud/calls/macos-rows.ts";
import type { ServiceTransport } from "../../../../src/icloud/service-transport.ts";
import { silentLogger } from "../../../../src/logger.ts";
import { parseConfig } from "../../../support/config.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function macDb(calls: number): string {
  const dir = mkdtempSync(join(tmpdir(), "calls-job-"));
  dirs.push(dir);
  const path = join(dir, "CallHistory.storedata");
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZANSWERED INTEGER, ZCALLTYPE INTEGER, ZORIGINATED INTEGER,
    ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR,
    ZUNIQUE_ID VARCHAR)`);
  const insert = db.prepare(
    "INSERT INTO ZCALLRECORD (ZUNIQUE_ID, ZADDRESS, ZDATE, ZDURATION, ZORIGINATED, ZANSWERED, ZCALLTYPE, ZSERVICE_PROVIDER) VALUES (?, ?, ?, 10, 0, 1, 1, 'com.apple.Telephony')",
  );
  for (let i = 0; i < calls; i++)
    insert.run(`UID-${i}`, `+4930${i}`, toCoreDataSeconds(new Date(Date.UTC(2026, 0, 1, 12, i))));
  db.close();
  return path;
}

/** The macOS source never uses the transport; any use is a bug. */
const noTransport = new Proxy({} as ServiceTransport, {
  get() {
    throw new Error("the macOS source must not use the iCloud transport");
  },
});

describe("CallsJob", () => {
  it("announces nothing on the first run, then each new call once", async () => {
    const path = macDb(3);
    const job = new CallsJob(noTransport, (await parseConfig({ source: "macos", macos_db: path })).calls, silentLogger);
    const state = CallsStateSchema.parse({});
    const first = await job.poll(state);
    expect(first.calls).toEqual([]);
    expect(first.last?.id).toBe("UID-2");
    Object.assign(state, { cursor: first.cursor, last: first.last });
    expect((await job.poll(state)).calls).toEqual([]);
    job.close();
  });

  it("starts over quietly when the stored cursor belongs to the other source", async () => {
    const path = macDb(2);
    const job = new CallsJob(noTransport, (await parseConfig({ source: "macos", macos_db: path })).calls, silentLogger);
    const state = CallsStateSchema.parse({});
    state.cursor = encodeCursor({ k: "cloud", token: "t", date: "2026-01-01T00:00:00.000Z" });
    const result = await job.poll(state);
    expect(result.calls).toEqual([]);
    expect(result.last?.id).toBe("UID-1");
    job.close();
  });
});
