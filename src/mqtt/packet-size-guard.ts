import { Transform, type TransformCallback } from "node:stream";

/**
 * Passes an MQTT byte stream through unchanged while reading each packet's fixed header; a packet
 * that declares more than `maxBytes` of remaining length (or a malformed length) fails the stream
 * before its body is buffered anywhere, so a 200 MB publish costs one socket chunk, not 200 MB.
 */
export class PacketSizeGuard extends Transform {
  readonly #max: number;
  /** Body bytes of the current packet still to pass. */
  #remaining = 0;
  /** Inside a fixed header: after its first byte, reading the variable-length "remaining length". */
  #inHeader = false;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;

  constructor(maxBytes: number) {
    super();
    this.#max = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, chunk.length - i);
        this.#remaining -= take;
        i += take;
        continue;
      }
      if (!this.#inHeader) {
        this.#inHeader = true;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        i += 1;
        continue;
      }
      const byte = chunk[i] ?? 0;
      i += 1;
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes += 1;
      if ((byte & 0x80) !== 0) {
        if (this.#lengthBytes >= 4) {
          callback(new Error("malformed MQTT packet length"));
          return;
        }
        continue;
      }
      this.#inHeader = false;
      if (this.#length > this.#max) {
        callback(new Error(`MQTT packet of ${this.#length} bytes exceeds the limit of ${this.#max}`));
        return;
      }
      this.#remaining = this.#length;
    }
    callback(null, chunk);
  }
}
