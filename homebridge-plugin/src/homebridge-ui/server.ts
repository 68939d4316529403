/**
 * The settings UI's server (Homebridge UI forks `dist/homebridge-ui/server.js` while the plugin's
 * settings are open, with `HOMEBRIDGE_STORAGE_PATH` in its environment, and talks to it over IPC).
 * Routes: `/status`, `/sign-in`, `/code`, `/resend`, `/choice`, `/forget-password` (sign-in.ts).
 * Errors reach the UI as a `RequestError` whose data is `{code, message, retry_after?}`.
 */
import { HomebridgePluginUiServer, RequestError } from "@homebridge/plugin-ui-utils";
import type { Logger } from "icloud2mqtt/engine";
import { ZodError } from "zod";
import { uiError } from "../errors.ts";
import { SignInService } from "./sign-in.ts";

/** Log lines go to the UI's log (the child's stderr), without context values. */
const stderrLogger: Logger = {
  debug() {},
  info: (message) => console.error(`[icloud2mqtt] ${message}`),
  warn: (message) => console.error(`[icloud2mqtt] ${message}`),
  error: (message) => console.error(`[icloud2mqtt] ${message}`),
  child: () => stderrLogger,
};

class ICloudUiServer extends HomebridgePluginUiServer {
  constructor() {
    super();
    const storage = this.homebridgeStoragePath;
    if (storage === undefined || storage === "") {
      console.error("HOMEBRIDGE_STORAGE_PATH is not set");
      process.exit(1);
    }
    const service = new SignInService(storage, stderrLogger);
    const route = (path: string, run: (body: unknown) => Promise<unknown>) =>
      this.onRequest(path, async (body: unknown) => {
        try {
          return await run(body);
        } catch (error) {
          if (error instanceof ZodError) {
            const message = error.issues.map((i) => i.message).join("; ");
            throw new RequestError(message, { code: "INVALID_INPUT", message });
          }
          const data = uiError(error);
          throw new RequestError(data.message, data);
        }
      });
    route("/status", () => service.status());
    route("/sign-in", (body) => service.signIn(body));
    route("/code", (body) => service.code(body));
    route("/resend", (body) => service.resend(body));
    route("/choice", (body) => service.choice(body));
    route("/forget-password", (body) => service.forgetPassword(body));
    const stop = () => {
      void service.close().finally(() => process.exit(0));
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    this.ready();
  }
}

new ICloudUiServer();
