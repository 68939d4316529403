import { createRequire } from "node:module";
import mqttPacket from "mqtt-packet";

const done = new Set<string>();

interface PacketModule {
  writeToStream: { cacheNumbers: boolean };
}

/**
 * mqtt-packet (the packet codec of the `mqtt` client and of aedes) fills, on the first packet it
 * writes, a cache of 65 536 two-byte Buffers for packet ids and lengths: about 10 MB of heap kept for
 * the life of the process, for a bridge that sends a few hundred packets a minute. This turns that
 * cache off (its documented `writeToStream.cacheNumbers` switch) in the copy of mqtt-packet that
 * `owner` uses, and in the one this module imports (the same one unless npm installed two versions;
 * in the command's bundle, scripts/bundle-command.ts, the only one); numbers are then written from
 * a fresh two-byte buffer each. Call it before the first packet is written.
 */
export function skipPacketNumberCache(owner: "mqtt" | "aedes"): void {
  if (done.has(owner)) return;
  done.add(owner);
  (mqttPacket as PacketModule).writeToStream.cacheNumbers = false;
  // Another copy only when the owner resolves another file (never loaded for nothing: in the bundle
  // the file on disk is not the one in use).
  const ownRequire = createRequire(import.meta.url);
  const ownerRequire = createRequire(ownRequire.resolve(owner));
  if (ownerRequire.resolve("mqtt-packet") === ownRequire.resolve("mqtt-packet")) return;
  (ownerRequire("mqtt-packet") as PacketModule).writeToStream.cacheNumbers = false;
}
