import type { Server } from "node:http";

/** Answers a malformed request with a bare 400 and closes the connection (instead of Node's default reset). */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
}

/** `server.listen(port, host)` as a promise that rejects with the listen error (a port in use, a bad address). */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
