import { gzipSync } from "node:zlib";

/**
 * Note bodies as CloudKit carries them in `TextDataEncrypted`: a gzip-compressed protobuf
 * `NoteStoreProto { document = 2 { version = 2; note = 3 { note_text = 2; attribute_run = 5 {
 * length = 1; attachment_info = 12 { attachment_identifier = 1; type_uti = 2 } } } } }`, field
 * numbers as timlaing/pyicloud `pyicloud/services/notes/protobuf/notes.proto` reads them.
 */

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

const tag = (no: number, wire: number) => varint(no * 8 + wire);
const bytesField = (no: number, value: Buffer) => Buffer.concat([tag(no, 2), varint(value.length), value]);
const intField = (no: number, value: number) => Buffer.concat([tag(no, 0), varint(value)]);
const text = (value: string) => Buffer.from(value, "utf8");

/** A body: the text (title line first), then one U+FFFC per attachment, each with its run. */
export function encodeBody(content: string, attachments: ReadonlyArray<{ identifier: string; uti: string }>): Buffer {
  const placeholders = "\uFFFC".repeat(attachments.length);
  const noteText = attachments.length === 0 ? content : `${content}\n${placeholders}`;
  const runs = [bytesField(5, intField(1, [...content].length + (attachments.length === 0 ? 0 : 1)))];
  for (const a of attachments) {
    const info = Buffer.concat([bytesField(1, text(a.identifier)), bytesField(2, text(a.uti))]);
    runs.push(bytesField(5, Buffer.concat([intField(1, 1), bytesField(12, info)])));
  }
  const note = Buffer.concat([bytesField(2, text(noteText)), ...runs]);
  const document = Buffer.concat([intField(2, 1), bytesField(3, note)]);
  return gzipSync(bytesField(2, document));
}
