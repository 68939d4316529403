import { createRequire } from "node:module";

const done = new Set<string>();

/**
 * mqtt-packet (the packet codec of the `mqtt` client and of aedes) fills, on the first packet it
 * writes, a cache of 65 536 two-byte Buffers for packet ids and lengths: about 10 MB of heap kept for
 * the life of the process, for a bridge that sends a few hundred packets a minute. This turns that
 * cache off (its documented `writeToStream.cacheNumbers` switch) in the copy of mqtt-packet that
 * `owner` uses; numbers are then written from a fresh two-byte buffer each. Call it before the first
 * packet is written.
 */
export function skipPacketNumberCache(owner: "mqtt" | "aedes"): void {
  if (done.has(owner)) return;
  done.add(owner);
  const ownerRequire = createRequire(createRequire(import.meta.url).resolve(owner));
  const packet = ownerRequire("mqtt-packet") as { writeToStream: { cacheNumbers: boolean } };
  packet.writeToStream.cacheNumbers = false;
}
