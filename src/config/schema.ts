import { z } from "zod";
import { AccountListSchema } from "../engine/account-config.ts";
import { brokerUrlProblem, isLoopbackHost, notBoth, nullableString, port, topicField } from "./fields.ts";
import { RicloudApiSchema } from "./ricloud-api-schema.ts";

/**
 * The configuration: the one source of its TypeScript type, defaults, validation and JSON Schema
 * (see json-schema.ts). Keys are snake_case; every key has a description and, where sensible, a default.
 * Secrets may come from files (`*_file`) or environment variables (see load.ts).
 */

export {
  ACCOUNT_ID_PATTERN,
  type AccountConfig,
  type AccountConfigInput,
  AccountSchema,
} from "../engine/account-config.ts";
export { parseDuration, parseSchedule, type Schedule } from "./schedule.ts";

export const CONFIG_VERSION = 1;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** Default state directory; `ICLOUD2MQTT_STATE_DIR` overrides it like any other key. */
export const DEFAULT_STATE_DIR = "~/.icloud2mqtt";

export const MqttSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, "must be a mqtt://, mqtts://, ws:// or wss:// URL")
      .superRefine((value, ctx) => {
        const problem = brokerUrlProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      })
      .nullable()
      .default(null)
      .describe("Broker URL (mqtt://, mqtts://, ws://, wss://); null starts the embedded broker."),
    username: nullableString("Broker user name."),
    password: nullableString("Broker password. Prefer password_file or ICLOUD2MQTT_MQTT__PASSWORD."),
    password_file: nullableString("File holding the broker password; trailing newline trimmed."),
    ca: nullableString("CA certificate file (PEM) for TLS."),
    cert: nullableString("Client certificate file (PEM) for TLS client authentication."),
    key: nullableString("Client private key file (PEM) for TLS client authentication."),
    reject_unauthorized: z.boolean().default(true).describe("Verify the broker's TLS certificate."),
    client_id: nullableString("MQTT client id; null: icloud2mqtt_<random suffix> chosen at start."),
    base_topic: topicField("icloud2mqtt", "Prefix of every topic the bridge publishes."),
    discovery: z.boolean().default(true).describe("Publish Home Assistant MQTT discovery."),
    discovery_prefix: topicField("homeassistant", "Home Assistant discovery prefix; must differ from base_topic."),
    status_topic: topicField(
      "homeassistant/status",
      "Home Assistant birth topic; discovery is republished when it says online.",
    ),
    keepalive: z.number().int().min(0).max(65_535).default(60).describe("MQTT keepalive in seconds."),
    embedded_broker: z
      .strictObject({
        host: z.string().min(1).default("127.0.0.1").describe("Address the embedded broker listens on."),
        port: port(1883, "Port of the embedded broker (0 = any free port)."),
      })
      .prefault({})
      .describe("The broker started when url is null."),
  })
  .superRefine((mqtt, ctx) => {
    notBoth(mqtt, "password", "password_file", ctx);
    if ((mqtt.cert === null) !== (mqtt.key === null)) {
      ctx.addIssue({
        code: "custom",
        path: [mqtt.cert === null ? "cert" : "key"],
        message: "cert and key must be set together",
      });
    }
    if (mqtt.discovery_prefix === mqtt.base_topic) {
      ctx.addIssue({
        code: "custom",
        path: ["discovery_prefix"],
        message: `must differ from base_topic ("${mqtt.base_topic}")`,
      });
    }
  })
  .describe("MQTT broker and topics.");

/** A tile URL template: http(s), with {z}, {x} and {y} and no other placeholder (the CSP names its one origin). */
const TileUrlSchema = z
  .string()
  .max(500)
  .refine((url) => {
    if (!/\{z\}/.test(url) || !/\{x\}/.test(url) || !/\{y\}/.test(url)) return false;
    if (/\{(?![xyz]\})/.test(url.replace(/\{[xyz]\}/g, ""))) return false;
    try {
      const parsed = new URL(url.replace(/\{[xyz]\}/g, "0"));
      return parsed.protocol === "https:" || parsed.protocol === "http:";
    } catch {
      return false;
    }
  }, "must be an http(s) URL with {z}, {x} and {y} (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png)");

const MapSchema = z
  .strictObject({
    tiles: TileUrlSchema.nullable()
      .default("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
      .describe(
        "Map tiles for the web dashboard (loaded by the browser, only while online); null shows locations as a list with map links only.",
      ),
    attribution: z
      .string()
      .max(300)
      .default("© OpenStreetMap contributors")
      .describe("Attribution shown on the map (the tile provider's terms require one)."),
  })
  .describe("The web dashboard's map.");

export const HttpSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Serve the HTTP API and the MFA web page."),
    host: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .describe("Address to listen on. Anything but loopback requires auth_token(_file) or allow_unauthenticated."),
    port: port(8723, "Port to listen on (0 = any free port)."),
    base_path: z
      .string()
      .regex(/^\/[^\s?#]*$/, "must start with / and contain no spaces, ? or #")
      .default("/")
      .describe("Path prefix for reverse proxies and Home Assistant ingress."),
    auth_token: nullableString(
      "Bearer token required by the HTTP API. Prefer auth_token_file or ICLOUD2MQTT_HTTP__AUTH_TOKEN.",
    ),
    auth_token_file: nullableString("File holding the HTTP bearer token; trailing newline trimmed."),
    allow_unauthenticated: z
      .boolean()
      .default(false)
      .describe("Allow a non-loopback host without a token (only behind an authenticating proxy)."),
    allowed_hosts: z
      .array(
        z
          .string()
          .max(253)
          .regex(/^[A-Za-z0-9_.-]+$/, "must be a host name without port or scheme (e.g. local-icloud2mqtt)"),
      )
      .default([])
      .describe(
        "Host names (besides localhost and IP addresses) the server answers to when no auth_token is set; guards against DNS rebinding. Add the Home Assistant add-on host name for ingress.",
      ),
    mfa_attempts_per_minute: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(5)
      .describe("Rate limit for two-factor code submissions."),
    map: MapSchema.prefault({}),
  })
  .superRefine((http, ctx) => {
    notBoth(http, "auth_token", "auth_token_file", ctx);
    const hasToken = http.auth_token !== null || http.auth_token_file !== null;
    if (http.enabled && !isLoopbackHost(http.host) && !hasToken && !http.allow_unauthenticated) {
      ctx.addIssue({
        code: "custom",
        path: ["host"],
        message: `"${http.host}" is not a loopback address: set auth_token or auth_token_file, or allow_unauthenticated: true`,
      });
    }
  })
  .describe("HTTP API and MFA web page.");

export const PushSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe("Offer Web Push notifications (e.g. when a two-factor code is needed)."),
    subject: z
      .string()
      .regex(/^(mailto:|https:\/\/)\S+$/, "must start with mailto: or https://")
      .nullable()
      .default(null)
      .describe("VAPID contact (mailto: or https:); null derives one from the host name."),
  })
  .describe("Web Push notifications.");

export const ConfigSchema = z
  .strictObject({
    version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION).describe("Configuration format version."),
    log_level: z.enum(LOG_LEVELS).default("info").describe("Log level: debug, info, warn or error."),
    state_dir: z
      .string()
      .min(1)
      .default(DEFAULT_STATE_DIR)
      .describe("Directory for sessions (0600), engine state and the downloads index. Env: ICLOUD2MQTT_STATE_DIR."),
    accounts: AccountListSchema.describe("iCloud accounts; at least one."),
    mqtt: MqttSchema.prefault({}),
    http: HttpSchema.prefault({}),
    push: PushSchema.prefault({}),
    ricloud_api: RicloudApiSchema.prefault({}),
  })
  .describe("icloud2mqtt configuration.");

export type Config = z.output<typeof ConfigSchema>;
/** The configuration as written (every key with a default is optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;
export type MqttConfig = Config["mqtt"];
export type HttpConfig = Config["http"];
export type PushConfig = Config["push"];
export type { RicloudApiConfig } from "./ricloud-api-schema.ts";
