import { EngineError } from "../../../errors.ts";
import type { HttpServiceView } from "../../../http/service-view.ts";
import type { MqttServiceView } from "../../../mqtt/service-view.ts";
import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";
import { SAFARI_NOT_AVAILABLE_MESSAGE, type SafariSnapshot } from "./index.ts";

/** Nothing on MQTT: the account state (`services.safari`) already says the history is not available. */
export const safariMqtt: MqttServiceView<SafariSnapshot, Record<never, never>, null> = {
  snapshot: () => [],
  events: {},
  accountComponents: () => ({}),
  ownedStateFilters: () => [],
  remote: {
    filters: () => [],
    initial: () => null,
    snapshot: () => ({ available: false, reason: SAFARI_NOT_AVAILABLE_MESSAGE }),
    receive: () => ({ kind: "ignored" }),
    results: {},
  },
};

/** In the HTTP API: that the history is not available, and why. */
export const safariHttp: HttpServiceView<SafariSnapshot> = {
  view: (snapshot) => ({ available: snapshot.available, reason: snapshot.reason }),
  card: (snapshot) => ({ empty: snapshot.reason }),
  files: {},
};

/** In the ricloud-compatible API: a `cloudkit_safari.history` poll fails with the reason. */
export const safariRicloud: RicloudServiceView = {
  items: async () => {
    throw new EngineError("SERVICE_NOT_AVAILABLE", SAFARI_NOT_AVAILABLE_MESSAGE);
  },
};
