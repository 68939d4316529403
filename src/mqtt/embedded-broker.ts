import { createServer, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { Aedes, type AuthorizePublishHandler, type PublishPacket } from "aedes";
import { type Logger, silentLogger } from "../logger.ts";
import { MQTT_DEFAULTS } from "./options.ts";
import { skipPacketNumberCache } from "./packet-numbers.ts";
import { PacketSizeGuard } from "./packet-size-guard.ts";
import { retainedRequestResponse } from "./requests.ts";
import { Topics } from "./topics.ts";

/** Thumbnails (at most 2 MB) are the largest thing the bridge publishes; requests are far smaller. */
export const BROKER_MAX_PACKET_BYTES = 4 * 1024 * 1024;

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 1883, or 0 for any free port. */
  port?: number;
  logger?: Logger;
  /** The bridge's base topic, whose request topics refuse retained publishes. Default `icloud2mqtt`. */
  baseTopic?: string;
  /** Connections sending a larger packet are closed before it is read. Default 4 MiB. */
  maxPacketBytes?: number;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Refuses retained publishes to `<base>/bridge/request/<command>` (aedes speaks MQTT 3.1.1 only,
 * so the front-end could not tell them from live ones): answered with the bridge's error response,
 * neither stored nor delivered (moved to a `$` topic no wildcard subscription receives).
 */
function refuseRetainedRequests(broker: Aedes, topics: Topics, log: Logger): AuthorizePublishHandler {
  return (_client, packet: PublishPacket, callback) => {
    const command = packet.retain ? topics.commandOf(packet.topic) : undefined;
    if (command !== undefined) {
      const payload = Buffer.from(packet.payload);
      if (payload.length > 0) {
        log.warn("refused a retained request publish", { command });
        const answer = JSON.stringify(retainedRequestResponse(command, payload));
        broker.publish(
          { cmd: "publish", topic: topics.response(command), payload: answer, qos: 1, retain: false, dup: false },
          () => undefined,
        );
      }
      packet.retain = false;
      packet.topic = `$icloud2mqtt/refused/${command}`;
    }
    callback(null);
  };
}

/**
 * An in-process MQTT broker (aedes, in-memory persistence): retained messages live as long as the
 * process. For users without a broker, and for tests. Packets over `maxPacketBytes` close the
 * connection before they are buffered; retained requests to the bridge are refused.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const maxPacketBytes = options.maxPacketBytes ?? BROKER_MAX_PACKET_BYTES;
  const log = (options.logger ?? silentLogger).child({ module: "embedded-broker" });
  const topics = new Topics(options.baseTopic ?? MQTT_DEFAULTS.baseTopic, MQTT_DEFAULTS.discoveryPrefix);
  skipPacketNumberCache("aedes");
  const broker = await Aedes.createBroker();
  broker.authorizePublish = refuseRetainedRequests(broker, topics, log);
  broker.on("clientError", (client, error) => log.debug("client error", { client: client.id, error: error.message }));
  const sockets = new Set<Socket>();
  // noDelay: a message is written at once, not held back by Nagle's algorithm until the previous
  // one is acknowledged (up to the receiver's 40 ms delayed ACK; bench/README.md, "findmy.ts").
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    // aedes corks the connection while it writes a packet's parts; through the guard's duplex that
    // does not reach the socket, so the small writes would wait for Nagle (40 ms each).
    socket.setNoDelay(true);
    const guard = new PacketSizeGuard(maxPacketBytes);
    guard.on("error", (error) => {
      log.warn("closed an MQTT connection", { reason: error.message });
      socket.destroy();
    });
    socket.pipe(guard);
    const connection = Duplex.from({ readable: guard, writable: socket });
    connection.on("error", () => undefined);
    connection.once("close", () => socket.destroy());
    socket.once("close", () => connection.destroy());
    broker.handle(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 1883, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const url = `mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info("embedded MQTT broker listening", { url });
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        broker.close();
      }),
  };
}
