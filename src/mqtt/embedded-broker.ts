import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { type Logger, silentLogger } from "../logger.ts";

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 1883, or 0 for any free port. */
  port?: number;
  logger?: Logger;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An in-process MQTT broker (aedes, in-memory persistence): retained messages live as long as the
 * process. For users without a broker, and for tests.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const log = (options.logger ?? silentLogger).child({ module: "embedded-broker" });
  const broker = await Aedes.createBroker();
  broker.on("clientError", (client, error) => log.debug("client error", { client: client.id, error: error.message }));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    broker.handle(socket);
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
