import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";

/**
 * Note bodies (`TextDataEncrypted`): base64 of a gzip- or zlib-compressed protobuf
 * (`NoteStoreProto { Document document = 2 { Note note = 3 { string note_text = 2; repeated
 * AttributeRun attribute_run = 5 { AttachmentInfo attachment_info = 12 { string identifier = 1;
 * string type_uti = 2 } } } } }`), as timlaing/pyicloud `pyicloud/services/notes/decoding.py` and
 * `protobuf/notes.proto` read it. Only those fields are read; everything else is skipped.
 */

/** Larger bodies are not decompressed (a note is text; this guards against a compression bomb). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** U+FFFC, where an attachment sits in the text. */
const OBJECT_REPLACEMENT = "\uFFFC";

export interface NoteBody {
  /** Plain text, without the attachment placeholders (and the blank end they leave). */
  text: string;
  /** Attachment identifiers in the order they appear. */
  attachments: Array<{ identifier: string; uti: string | null }>;
}

interface Field {
  no: number;
  wire: number;
  value: number | Buffer;
}

function varint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let pos = start;
  for (;;) {
    if (pos >= buf.length) throw new RangeError("truncated varint");
    const byte = buf[pos++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
    if (shift > 63) throw new RangeError("varint too long");
  }
}

/** The top-level fields of one protobuf message. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = varint(buf, pos);
    const no = Math.floor(key / 8);
    const wire = key % 8;
    pos = afterKey;
    if (wire === 0) {
      const [value, next] = varint(buf, pos);
      out.push({ no, wire, value });
      pos = next;
    } else if (wire === 2) {
      const [length, next] = varint(buf, pos);
      if (next + length > buf.length) throw new RangeError("truncated field");
      out.push({ no, wire, value: buf.subarray(next, next + length) });
      pos = next + length;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

const message = (list: Field[], no: number): Buffer | undefined => {
  const found = list.find((f) => f.no === no && f.wire === 2);
  return found === undefined ? undefined : (found.value as Buffer);
};

function decompress(raw: Buffer): Buffer {
  const options = { maxOutputLength: MAX_BODY_BYTES };
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) return gunzipSync(raw, options);
  try {
    return inflateSync(raw, options);
  } catch {
    return inflateRawSync(raw, options);
  }
}

/** The text and attachment ids of a body (base64 or raw bytes); undefined when it cannot be read. */
export function decodeNoteBody(value: string | Buffer): NoteBody | undefined {
  try {
    const raw = typeof value === "string" ? Buffer.from(value, "base64") : value;
    const document = message(fields(decompress(raw)), 2);
    const note = document === undefined ? undefined : message(fields(document), 3);
    if (note === undefined) return undefined;
    const noteFields = fields(note);
    const text = message(noteFields, 2)?.toString("utf8") ?? "";
    const attachments: NoteBody["attachments"] = [];
    const seen = new Set<string>();
    for (const run of noteFields.filter((f) => f.no === 5 && f.wire === 2)) {
      const info = message(fields(run.value as Buffer), 12);
      if (info === undefined) continue;
      const infoFields = fields(info);
      const identifier = message(infoFields, 1)?.toString("utf8") ?? "";
      const uti = message(infoFields, 2)?.toString("utf8") ?? null;
      if (identifier === "" || seen.has(identifier)) continue;
      seen.add(identifier);
      attachments.push({ identifier, uti });
    }
    return { text: text.replaceAll(OBJECT_REPLACEMENT, "").trimEnd(), attachments };
  } catch {
    return undefined;
  }
}
