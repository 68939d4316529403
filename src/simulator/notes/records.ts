import { createHash, randomUUID } from "node:crypto";
import type { SimResponse } from "../router.ts";
import { encodeBody } from "./body.ts";
import type { NotesZone, SimRecord } from "./notes-zone.ts";

export const ZONE_NAME = "Notes";

type Field = { value: unknown; type: string };

export function ownerRecordName(dsid: string): string {
  return `_${createHash("sha256").update(`notes:${dsid}`).digest("hex").slice(0, 32)}`;
}

export function zoneId(dsid: string): Record<string, string> {
  return { zoneName: ZONE_NAME, ownerRecordName: ownerRecordName(dsid), zoneType: "REGULAR_CUSTOM_ZONE" };
}

export function encodeSyncToken(generation: number, seq: number): string {
  return Buffer.from(`NOTS\u0001${generation}\u0001${seq}`, "utf8").toString("base64");
}

export function decodeSyncToken(token: string): { generation: number; seq: number } | undefined {
  const parts = Buffer.from(token, "base64").toString("utf8").split("\u0001");
  if (parts.length !== 3 || parts[0] !== "NOTS") return undefined;
  const generation = Number(parts[1]);
  const seq = Number(parts[2]);
  if (!Number.isSafeInteger(generation) || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { generation, seq };
}

const encrypted = (text: string): Field => ({
  value: Buffer.from(text, "utf8").toString("base64"),
  type: "ENCRYPTED_BYTES",
});
const bytes = (key: string): Field => ({
  value: createHash("sha256").update(key).digest("base64").slice(0, 24),
  type: "BYTES",
});
const reference = (recordName: string, dsid: string) => ({ recordName, action: "VALIDATE", zoneID: zoneId(dsid) });

/** The text a note shows: its title line, then its body. */
export const noteContent = (record: SimRecord) =>
  record.body === "" ? record.title : `${record.title}\n${record.body}`;

function snippet(record: SimRecord): string {
  return record.body.split("\n")[0]?.slice(0, 100) ?? "";
}

/** A record in CloudKit's envelope; `desiredKeys` (when given) limits `fields`. */
export function recordJson(
  record: SimRecord,
  zone: NotesZone,
  assetUrl: (record: SimRecord) => string,
  desiredKeys: readonly string[] | undefined,
): Record<string, unknown> {
  const fields: Record<string, Field> = {};
  const stamp = (ms: number) => ({ timestamp: ms, userRecordName: ownerRecordName(zone.dsid), deviceID: "2" });
  if (record.type === "Folder") {
    fields["TitleEncrypted"] = encrypted(record.title);
  } else if (record.type === "Attachment") {
    const size = assetBytes(record).length;
    fields["AttachmentIdentifier"] = { value: record.recordName, type: "STRING" };
    fields["AttachmentUTI"] = { value: record.uti, type: "STRING" };
    fields["Filename"] = { value: record.filename, type: "STRING" };
    fields["Size"] = { value: size, type: "INT64" };
    if (record.noteName !== null) fields["Note"] = { value: reference(record.noteName, zone.dsid), type: "REFERENCE" };
    fields["PrimaryAsset"] = {
      type: "ASSETID",
      value: {
        downloadURL: assetUrl(record),
        size,
        fileChecksum: createHash("sha1").update(assetBytes(record)).digest("base64"),
        referenceChecksum: bytes(`${record.recordName}:ref`).value,
        wrappingKey: bytes(`${record.recordName}:key`).value,
      },
    };
  } else {
    fields["TitleEncrypted"] = encrypted(record.title);
    fields["CreationDate"] = { value: record.created, type: "TIMESTAMP" };
    fields["ModificationDate"] = { value: record.modified, type: "TIMESTAMP" };
    fields["Deleted"] = { value: record.deleted ? 1 : 0, type: "INT64" };
    if (record.folder !== null) fields["Folder"] = { value: reference(record.folder, zone.dsid), type: "REFERENCE" };
    if (record.type === "Note") {
      fields["SnippetEncrypted"] = encrypted(snippet(record));
      const attachments = record.attachments.map((name) => ({
        identifier: name,
        uti: zone.get(name)?.uti ?? "public.data",
      }));
      fields["TextDataEncrypted"] = {
        value: encodeBody(noteContent(record), attachments).toString("base64"),
        type: "ENCRYPTED_BYTES",
      };
      if (record.attachments.length > 0)
        fields["Attachments"] = {
          value: record.attachments.map((name) => reference(name, zone.dsid)),
          type: "REFERENCE_LIST",
        };
    } else {
      // Locked: the body is encrypted with the note's password (the simulator sends only the key material).
      fields["CryptoInitializationVector"] = bytes(`${record.recordName}:iv`);
      fields["CryptoTag"] = bytes(`${record.recordName}:tag`);
      fields["CryptoSalt"] = bytes(`${record.recordName}:salt`);
      fields["CryptoIterationCount"] = { value: 20000, type: "INT64" };
      fields["CryptoWrappedKey"] = bytes(`${record.recordName}:wrapped`);
    }
  }
  const shown =
    desiredKeys === undefined
      ? fields
      : Object.fromEntries(Object.entries(fields).filter(([k]) => desiredKeys.includes(k)));
  return {
    recordName: record.recordName,
    recordType: record.type,
    fields: shown,
    pluginFields: {},
    recordChangeTag: `${record.version.toString(36)}${record.modified.toString(36)}`,
    created: stamp(record.created),
    modified: stamp(record.modified),
    deleted: false,
    zoneID: zoneId(zone.dsid),
  };
}

export function tombstone(recordName: string, dsid: string): Record<string, unknown> {
  return { recordName, deleted: true, zoneID: zoneId(dsid) };
}

/** A small 16x16 grey baseline JPEG (the same tiny picture for every image attachment, with its name as a comment). */
const JPEG = Buffer.from(
  "/9j/4AAQSkZJRgABAQAAAQABAAD//gAC/9sAQwABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB/8AAEQgAEAAQAwERAAIRAAMRAP/EADIAAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKCxAAAgAAAAAAAAAAAAAAAAAAAPD/2gAMAwEAAgADAAA/APzXPsA/rIP6WDjz4vPwvK5oH0AcOfI5/9k=",
  "base64",
);

/** An attachment's bytes: a JPEG for images, a one-page PDF, a webloc plist, or text. */
export function assetBytes(record: SimRecord): Buffer {
  if (record.uti === "public.jpeg" || record.uti === "public.png") {
    const comment = Buffer.from(record.recordName, "utf8");
    const head = Buffer.from([0xff, 0xfe, (comment.length + 2) >> 8, (comment.length + 2) & 0xff]);
    return Buffer.concat([JPEG.subarray(0, 2), head, comment, JPEG.subarray(2)]);
  }
  if (record.uti === "com.adobe.pdf") {
    return Buffer.from(
      `%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n% ${record.filename}\ntrailer<</Root 1 0 R>>\n%%EOF\n`,
      "latin1",
    );
  }
  if (record.uti === "public.url") {
    return Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>URL</key><string>https://example.com/${encodeURIComponent(record.filename)}</string></dict></plist>\n`,
      "utf8",
    );
  }
  return Buffer.from(`${record.filename}\n`, "utf8");
}

export const ASSET_TYPES: Readonly<Record<string, string>> = {
  "public.jpeg": "image/jpeg",
  "public.png": "image/png",
  "com.adobe.pdf": "application/pdf",
  "public.url": "application/xml",
};

/** A response-level CloudKit error. */
export function ckError(status: number, serverErrorCode: string, reason: string): SimResponse {
  return { status, json: { uuid: randomUUID(), serverErrorCode, reason } };
}
