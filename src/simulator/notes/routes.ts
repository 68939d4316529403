/**
 * The simulator's iCloud Notes: the `com.apple.notes` CloudKit container on the `ckdatabasews`
 * webservice, as timlaing/pyicloud `pyicloud/services/notes/` reads it (zone `Notes`, record types
 * `Note`, `PasswordProtectedNote`, `Folder`, `Attachment`):
 *
 *   POST {origin}/database/1/com.apple.notes/production/private/changes/zone
 *        {"zones":[{"zoneID":{"zoneName":"Notes"},"syncToken"?,"desiredRecordTypes"?,"desiredKeys"?,"resultsLimit"?}]}
 *        → {"zones":[{"zoneID","syncToken","moreComing","records":[…]}]}, or an inline zone error
 *          (`BAD_REQUEST` for a token it does not know, `ZONE_NOT_FOUND` when Notes is off)
 *   POST …/records/query  {"query":{"recordType":"SearchIndexes","filterBy":[indexName recents|parentless]}}
 *   POST …/records/lookup {"records":[{"recordName"}…]} → records (or `NOT_FOUND` per record)
 *   GET  {origin}/notes-asset/<dsid>/<recordName>/<version>/<file>?sig=… (attachments' `PrimaryAsset.downloadURL`)
 *
 * See README.md next to this file for the fields and the scenario section.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ServiceRoutesFactory, SimServiceAccount, SimServiceContext } from "../context.ts";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import { assetSignature, NotesZone, type SimRecord } from "./notes-zone.ts";
import {
  ASSET_TYPES,
  assetBytes,
  ckError,
  decodeSyncToken,
  encodeSyncToken,
  recordJson,
  tombstone,
  ZONE_NAME,
  zoneId,
} from "./records.ts";
import { parseNotesScenario, type ScenarioNoteInput, ScenarioNoteSchema } from "./scenario.ts";

export const NOTES_DATABASE_PATH = "/database/1/com.apple.notes/production/private";
export const MAX_RESULTS = 200;

const ZoneIdSchema = z.object({ zoneName: z.string() }).loose();
const resultsLimit = z.number().int().positive().optional();
const ChangesBodySchema = z
  .object({
    zones: z
      .array(
        z
          .object({
            zoneID: ZoneIdSchema,
            syncToken: z.string().nullish(),
            resultsLimit,
            desiredRecordTypes: z.array(z.string()).nullish(),
            desiredKeys: z.array(z.string()).nullish(),
          })
          .loose(),
      )
      .min(1),
    resultsLimit,
  })
  .loose();
const QueryBodySchema = z
  .object({
    query: z
      .object({
        recordType: z.string(),
        filterBy: z
          .array(z.object({ fieldName: z.string(), fieldValue: z.object({ value: z.unknown() }).loose() }).loose())
          .optional(),
      })
      .loose(),
    zoneID: ZoneIdSchema.optional(),
    resultsLimit,
    desiredKeys: z.array(z.string()).nullish(),
  })
  .loose();
const LookupBodySchema = z
  .object({
    records: z.array(z.object({ recordName: z.string() }).loose()),
    desiredKeys: z.array(z.string()).nullish(),
  })
  .loose();

/** What a test can do to one account's simulated Notes. */
export interface NotesProbe {
  readonly zone: NotesZone;
  add(note: ScenarioNoteInput): string;
  edit(recordName: string, patch: { title?: string; body?: string }): void;
  /** To Recently Deleted. */
  trash(recordName: string): void;
  /** Gone for good (a tombstone). */
  expunge(recordName: string): void;
  /** Makes every sync token handed out so far invalid (BAD_REQUEST on the next changes/zone with one). */
  resetTokens(): void;
}

const probes = new Map<string, NotesProbe>();

/** Latest Notes zone per dsid (the newest simulator wins), for tests. */
export function notesProbe(dsid: string): NotesProbe {
  const probe = probes.get(dsid);
  if (probe === undefined) throw new Error(`no simulated Notes for dsid ${dsid}`);
  return probe;
}

/** Bodies come as `application/json` or `text/plain` JSON (CloudKit accepts both). */
function parseJson<T>(req: SimRequest, schema: z.ZodType<T>): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(req.body.toString("utf8"));
  } catch {
    return undefined;
  }
  const result = schema.safeParse(raw);
  return result.success ? result.data : undefined;
}

export const createNotesRoutes: ServiceRoutesFactory = (ctx: SimServiceContext): Route[] => {
  const epoch = ctx.clock.now();
  const secret = randomBytes(16).toString("hex");
  const zones = new Map<string, NotesZone>();
  for (const account of ctx.accounts()) {
    const scenario = parseNotesScenario(account.services["notes"], account.appleId);
    if (scenario === undefined) continue;
    const zone = new NotesZone(account.dsid, scenario, epoch, () => ctx.clock.now());
    zones.set(account.dsid, zone);
    probes.set(account.dsid, {
      zone,
      add: (note) => zone.add(ScenarioNoteSchema.parse(note)),
      edit: (recordName, patch) => zone.edit(recordName, patch),
      trash: (recordName) => zone.trash(recordName),
      expunge: (recordName) => zone.expunge(recordName),
      resetTokens: () => zone.resetTokens(),
    });
  }

  const assetUrl = (dsid: string) => (record: SimRecord) =>
    `${ctx.origin()}/notes-asset/${dsid}/${record.recordName}/${record.version}/\${f}?sig=${assetSignature(secret, dsid, record.recordName, record.version)}`;

  /**
   * Session and web-access checks as the simulator's Photos CloudKit routes make them: an expired or
   * missing web session is 401 (protocol reference section 5, "CloudKit 401"); web access off or
   * Advanced Data Protection is 403 ACCESS_DENIED "private db access disabled for this account"
   * (reference section 5). An account without Notes has no zone (the simulator's choice of
   * ZONE_NOT_FOUND, as for call history that was never set up).
   */
  function open(req: SimRequest): { zone: NotesZone | undefined; account: SimServiceAccount } | SimResponse {
    const account = ctx.authenticate(req);
    if (account === undefined) return { status: 401, json: { reason: "Invalid global session", error: 2 } };
    if (account.webAccessDisabled) return ckError(403, "ACCESS_DENIED", "private db access disabled for this account");
    const zone = zones.get(account.dsid);
    if (zone?.initialised) {
      zone.catchUp(ctx.clock.now());
      return { zone, account };
    }
    return { zone: undefined, account };
  }

  function changes(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("account" in opened)) return opened;
    const body = parseJson(req, ChangesBodySchema);
    // Malformed bodies: 400 BAD_REQUEST, the simulator's choice (as its other CloudKit routes).
    if (body === undefined) return ckError(400, "BAD_REQUEST", "malformed changes/zone request");
    const { zone, account } = opened;
    const answers = body.zones.map((entry) => {
      const id = { ...zoneId(account.dsid), zoneName: entry.zoneID.zoneName };
      if (entry.zoneID.zoneName !== ZONE_NAME || zone === undefined)
        return {
          zoneID: id,
          serverErrorCode: "ZONE_NOT_FOUND",
          reason: `zone '${entry.zoneID.zoneName}' does not exist`,
        };
      let after = 0;
      if (entry.syncToken !== undefined && entry.syncToken !== null) {
        // An empty token means "caught up" (kei's notes on changes/zone): no records, the current token.
        const decoded =
          entry.syncToken === "" ? { generation: zone.generation, seq: zone.seq } : decodeSyncToken(entry.syncToken);
        // A token from another generation (or from nowhere): BAD_REQUEST, as CloudKit answers a bad
        // token (protocol reference 3.7, kei); the client then reads the zone from its start.
        if (decoded === undefined || decoded.generation !== zone.generation || decoded.seq > zone.seq)
          return { zoneID: id, serverErrorCode: "BAD_REQUEST", reason: "sync token is not valid" };
        after = decoded.seq;
      }
      const limit = Math.min(entry.resultsLimit ?? body.resultsLimit ?? MAX_RESULTS, MAX_RESULTS);
      const types = entry.desiredRecordTypes ?? undefined;
      const { entries, moreComing, lastSeq } = zone.changesAfter(after, limit, types);
      const keys = entry.desiredKeys ?? undefined;
      return {
        zoneID: id,
        syncToken: encodeSyncToken(zone.generation, lastSeq),
        moreComing,
        records: entries.map(({ record, recordName }) =>
          record === undefined
            ? tombstone(recordName, account.dsid)
            : recordJson(record, zone, assetUrl(account.dsid), keys),
        ),
      };
    });
    return { status: 200, json: { zones: answers } };
  }

  function query(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("account" in opened)) return opened;
    const body = parseJson(req, QueryBodySchema);
    if (body === undefined) return ckError(400, "BAD_REQUEST", "malformed records/query request");
    const { zone, account } = opened;
    if (zone === undefined || (body.zoneID?.zoneName ?? ZONE_NAME) !== ZONE_NAME)
      return ckError(404, "ZONE_NOT_FOUND", `zone '${body.zoneID?.zoneName ?? ZONE_NAME}' does not exist`);
    const index = body.query.filterBy?.find((f) => f.fieldName === "indexName")?.fieldValue.value;
    // Only the SearchIndexes pyicloud uses are known; anything else is the simulator's 400.
    if (body.query.recordType !== "SearchIndexes" || (index !== "recents" && index !== "parentless"))
      return ckError(400, "BAD_REQUEST", `unknown query ${body.query.recordType}/${String(index)}`);
    const found =
      index === "parentless"
        ? zone.records().filter((r) => r.type === "Folder")
        : zone
            .notes()
            .filter((n) => !n.deleted)
            .sort((a, b) => b.modified - a.modified);
    const limit = Math.min(body.resultsLimit ?? MAX_RESULTS, MAX_RESULTS);
    return {
      status: 200,
      json: {
        records: found
          .slice(0, limit)
          .map((r) => recordJson(r, zone, assetUrl(account.dsid), body.desiredKeys ?? undefined)),
        syncToken: encodeSyncToken(zone.generation, zone.seq),
      },
    };
  }

  function lookup(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("account" in opened)) return opened;
    const body = parseJson(req, LookupBodySchema);
    if (body === undefined) return ckError(400, "BAD_REQUEST", "malformed records/lookup request");
    const { zone, account } = opened;
    if (zone === undefined) return ckError(404, "ZONE_NOT_FOUND", "zone 'Notes' does not exist");
    return {
      status: 200,
      json: {
        records: body.records.map(({ recordName }) => {
          const record = zone.get(recordName);
          return record === undefined
            ? { recordName, serverErrorCode: "NOT_FOUND", reason: "Record not found" }
            : recordJson(record, zone, assetUrl(account.dsid), body.desiredKeys ?? undefined);
        }),
      },
    };
  }

  function asset(req: SimRequest): SimResponse {
    const { dsid = "", recordName = "", version = "" } = req.params;
    const record = zones.get(dsid)?.get(recordName);
    // Asset URLs carry the simulator's own signature (no cookies needed, as CloudKit download URLs):
    // a wrong one is 403, an attachment that changed or went away 404.
    if (req.url.searchParams.get("sig") !== assetSignature(secret, dsid, recordName, Number(version)))
      return { status: 403, text: "Forbidden" };
    if (record === undefined || record.type !== "Attachment" || String(record.version) !== version)
      return { status: 404, text: "Not Found" };
    return {
      status: 200,
      headers: { "Content-Type": ASSET_TYPES[record.uti] ?? "application/octet-stream" },
      body: assetBytes(record),
    };
  }

  return [
    { id: "notes.changes.zone", method: "POST", path: `${NOTES_DATABASE_PATH}/changes/zone`, handle: changes },
    { id: "notes.records.query", method: "POST", path: `${NOTES_DATABASE_PATH}/records/query`, handle: query },
    { id: "notes.records.lookup", method: "POST", path: `${NOTES_DATABASE_PATH}/records/lookup`, handle: lookup },
    {
      id: "notes.asset",
      method: "GET",
      path: /^\/notes-asset\/(?<dsid>\d+)\/(?<recordName>[A-Za-z0-9-]+)\/(?<version>\d+)\/[^/]+$/,
      handle: asset,
    },
  ];
};
