import { createHash, randomUUID } from "node:crypto";
import type { SimResponse } from "../router.ts";
import type { CallEntry } from "./call-log.ts";

export const ZONE_NAME = "CallHistory";
export const RECORD_TYPE = "CallRecord";

export interface ZoneId {
  zoneName: string;
  ownerRecordName: string;
  zoneType: "REGULAR_CUSTOM_ZONE";
}

/** The user record name CloudKit puts in `ownerRecordName` and `created.userRecordName`. */
export function ownerRecordName(dsid: string): string {
  return `_${createHash("sha256").update(`callhistory:${dsid}`).digest("hex").slice(0, 32)}`;
}

export function zoneId(dsid: string): ZoneId {
  return { zoneName: ZONE_NAME, ownerRecordName: ownerRecordName(dsid), zoneType: "REGULAR_CUSTOM_ZONE" };
}

/** A sync token: opaque to clients, here the zone generation and the last change seq. */
export function encodeSyncToken(generation: number, seq: number): string {
  return Buffer.from(`CHST\u0001${generation}\u0001${seq}`, "utf8").toString("base64");
}

export function decodeSyncToken(token: string): { generation: number; seq: number } | undefined {
  const parts = Buffer.from(token, "base64").toString("utf8").split("\u0001");
  if (parts.length !== 3 || parts[0] !== "CHST") return undefined;
  const generation = Number(parts[1]);
  const seq = Number(parts[2]);
  if (!Number.isSafeInteger(generation) || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { generation, seq };
}

/** A `CallRecord` in CloudKit's record envelope (icloud-protocol.md 3.5). Absent values are omitted fields. */
export function callRecord(entry: CallEntry, dsid: string): Record<string, unknown> {
  const { call } = entry;
  const fields: Record<string, { value: unknown; type: string }> = {
    uniqueId: { value: call.uniqueId, type: "STRING" },
    address: { value: call.address, type: "STRING" },
    date: { value: call.date, type: "TIMESTAMP" },
    duration: { value: call.duration, type: "DOUBLE" },
    originated: { value: call.originated ? 1 : 0, type: "INT64" },
    answered: { value: call.answered ? 1 : 0, type: "INT64" },
    callType: { value: call.callType, type: "STRING" },
    serviceProvider: { value: call.serviceProvider, type: "STRING" },
  };
  if (call.name !== null) fields["name"] = { value: call.name, type: "STRING" };
  if (call.isoCountryCode !== null) fields["isoCountryCode"] = { value: call.isoCountryCode, type: "STRING" };
  const stamp = { timestamp: entry.writtenAt, userRecordName: ownerRecordName(dsid), deviceID: "2" };
  return {
    recordName: call.uniqueId,
    recordType: RECORD_TYPE,
    fields,
    pluginFields: {},
    recordChangeTag: entry.seq.toString(36),
    created: stamp,
    modified: stamp,
    deleted: false,
    zoneID: zoneId(dsid),
  };
}

/** A response-level CloudKit error. */
export function ckError(status: number, serverErrorCode: string, reason: string): SimResponse {
  return { status, json: { uuid: randomUUID(), serverErrorCode, reason } };
}
