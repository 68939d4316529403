import type { z } from "zod";
import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import { cloudKitError, ServerErrorSchema, type ServerErrorWording } from "../cloudkit/server-error.ts";
import { readDownload } from "../download-body.ts";
import type { ServiceTransport } from "../service-transport.ts";
import { type NotesRecord, readRecord } from "./records.ts";
import { ChangesResponseSchema, LookupResponseSchema, RecordSchema } from "./wire.ts";

/** The Notes container's private database on the `ckdatabasews` webservice (timlaing/pyicloud `NotesService`). */
export const NOTES_DATABASE = "/database/1/com.apple.notes/production/private";
const ZONE = { zoneName: "Notes", zoneType: "REGULAR_CUSTOM_ZONE" };
const RECORD_TYPES = ["Note", "PasswordProtectedNote", "Folder", "Attachment"];
const KEYS = [
  "TitleEncrypted",
  "ModificationDate",
  "CreationDate",
  "Deleted",
  "Folder",
  "Folders",
  "Attachments",
  "AttachmentUTI",
  "UTI",
  "Filename",
  "Size",
];
const PAGE_SIZE = 200;
/** Guards against a service that keeps saying moreComing. */
const MAX_PAGES = 2000;
/** Attachments larger than this are refused by `download`. */
export const MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024;
/** CloudKit download URLs name the file `${f}`; the client puts the file name there. */
const FILE_PLACEHOLDER = `$${"{f}"}`;

export const NOTES_OFF_MESSAGE =
  "iCloud Notes is not turned on for this account (its Notes zone does not exist), or the notes were never upgraded to iCloud";

/**
 * iCloud Notes through CloudKit, as iCloud.com and timlaing/pyicloud read it: the Notes zone's change
 * feed (`changes/zone`, paged with `moreComing`, resumed from a sync token) and `records/lookup`;
 * attachments by their asset URL. Titles and bodies are never logged.
 */
export class NotesService {
  readonly #transport: ServiceTransport;
  readonly #log: Logger;

  constructor(transport: ServiceTransport, options: { log?: Logger } = {}) {
    this.#transport = transport;
    this.#log = (options.log ?? silentLogger).child({ client: "notes" });
  }

  /**
   * The zone's records changed since `token` (everything without one), oldest change first, and the
   * token to resume from; undefined when the service refused `token` (read from the start then).
   * `bodies` adds `TextDataEncrypted`. Throws on any other failure, so no token moves past a page not read.
   */
  async changes(
    token: string | undefined,
    options: { bodies?: boolean } = {},
  ): Promise<{ records: NotesRecord[]; token: string } | undefined> {
    const records: NotesRecord[] = [];
    let current = token;
    for (let pages = 0; ; pages++) {
      if (pages >= MAX_PAGES) throw new EngineError("UNEXPECTED_RESPONSE", "Notes changes never finished");
      const response = await this.#post("/changes/zone", ChangesResponseSchema, {
        zones: [
          {
            zoneID: ZONE,
            desiredRecordTypes: RECORD_TYPES,
            desiredKeys: options.bodies === true ? [...KEYS, "TextDataEncrypted"] : KEYS,
            reverse: false,
            resultsLimit: PAGE_SIZE,
            ...(current === undefined ? {} : { syncToken: current }),
          },
        ],
      });
      const [zone] = response.zones;
      if (zone === undefined) throw new EngineError("UNEXPECTED_RESPONSE", "changes/zone answered no zone");
      if (zone.serverErrorCode === "BAD_REQUEST" && pages === 0 && token !== undefined) return undefined;
      if (zone.serverErrorCode !== undefined) throw serverError(zone);
      if (zone.syncToken === undefined)
        throw new EngineError("UNEXPECTED_RESPONSE", "changes/zone answered no sync token");
      records.push(...this.#read(zone.records));
      current = zone.syncToken;
      if (!zone.moreComing) break;
    }
    this.#log.debug("read Notes changes", { records: records.length });
    return { records, token: current };
  }

  /** Records by name (e.g. an attachment, for a fresh download URL). */
  async lookup(recordNames: readonly string[], desiredKeys?: readonly string[]): Promise<NotesRecord[]> {
    const response = await this.#post("/records/lookup", LookupResponseSchema, {
      records: recordNames.map((recordName) => ({ recordName })),
      zoneID: { zoneName: ZONE.zoneName },
      ...(desiredKeys === undefined ? {} : { desiredKeys }),
    });
    return this.#read(response.records);
  }

  /**
   * An attachment's bytes from its asset URL (`${f}` in CloudKit URLs is the file name); `size`,
   * the asset's byte size from its record, when known: a body of another length is refused.
   */
  async download(
    url: string,
    filename: string,
    options: { size?: number | null } = {},
  ): Promise<{ body: Buffer; contentType: string }> {
    const response = await this.#transport.download(url.replaceAll(FILE_PLACEHOLDER, encodeURIComponent(filename)));
    if (response.status !== 200) {
      response.body.on("error", () => undefined);
      response.body.resume();
      const code =
        response.status === 403 || response.status === 404 || response.status === 410 ? "NOT_FOUND" : "DOWNLOAD_FAILED";
      throw new EngineError(code, `the attachment could not be fetched (${response.status})`, {
        info: { status: response.status },
      });
    }
    const body = await readDownload(response, {
      what: "the attachment",
      maxBytes: MAX_ATTACHMENT_BYTES,
      expectedSize: options.size,
    });
    return { body, contentType: response.headers["content-type"] ?? "application/octet-stream" };
  }

  #read(raw: readonly unknown[]): NotesRecord[] {
    const out: NotesRecord[] = [];
    for (const item of raw) {
      const parsed = RecordSchema.safeParse(item);
      if (!parsed.success) {
        this.#log.warn("skipping an unreadable Notes record");
        continue;
      }
      if (parsed.data.serverErrorCode !== undefined) {
        this.#log.warn("Notes record error", { code: parsed.data.serverErrorCode });
        continue;
      }
      out.push(readRecord(parsed.data));
    }
    return out;
  }

  async #post<S extends z.ZodType>(path: string, schema: S, body: unknown): Promise<z.output<S>> {
    if (this.#transport.serviceUrl("ckdatabasews") === undefined) {
      throw new EngineError("SERVICE_NOT_AVAILABLE", "The account offers no CloudKit (ckdatabasews) webservice");
    }
    const response = await this.#transport.request("ckdatabasews", `${NOTES_DATABASE}${path}`, {
      method: "POST",
      body,
      query: { remapEnums: "true", getCurrentSyncToken: "true" },
      contentType: "text/plain",
    });
    const error = ServerErrorSchema.safeParse(response.json);
    if (error.success) throw serverError(error.data, response.status);
    const { status } = response;
    if (status === 401 || status === 421)
      throw new EngineError("SESSION_EXPIRED", `Notes ${path} still answers ${status} after re-authentication`);
    if (status === 403)
      throw new EngineError("WEB_ACCESS_DISABLED", "iCloud refused access to Notes (403)", { info: { status } });
    if (status === 429) throw new EngineError("RATE_LIMITED", "Notes rate limit (429)");
    if (status >= 500) throw new EngineError("SERVICE_UNAVAILABLE", `Notes answered ${status}`);
    if (status !== 200)
      throw new EngineError("UNEXPECTED_RESPONSE", `Notes ${path} answered HTTP ${status}`, { info: { status } });
    const parsed = schema.safeParse(response.json);
    if (!parsed.success) {
      throw new EngineError("UNEXPECTED_RESPONSE", `Notes ${path} answered an unexpected body`, {
        info: { issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`) },
      });
    }
    return parsed.data;
  }
}

/** How Notes words CloudKit's errors. */
const NOTES_ERRORS: ServerErrorWording = {
  service: "Notes",
  accessDenied:
    "iCloud refused access to Notes (ACCESS_DENIED): turn on Access iCloud Data on the Web and turn off Advanced Data Protection",
  zoneNotFound: { code: "SERVICE_NOT_AVAILABLE", message: NOTES_OFF_MESSAGE },
};

function serverError(error: { serverErrorCode?: string; reason?: string; retryAfter?: number }, status?: number) {
  return cloudKitError(error, NOTES_ERRORS, status);
}
