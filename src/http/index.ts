export type { HttpServerOptions } from "./http-server.ts";
export { HttpServer, startHttpServer } from "./http-server.ts";
export type { PushMessage } from "./push-notifier.ts";
