import { isAbsolute, resolve } from "node:path";
import { type AccountConfigInput, AccountSchema, SERVICES } from "icloud2mqtt/engine";
import { z } from "zod";

/**
 * The plugin's configuration (its block in Homebridge's `config.json`), one zod schema: the engine's
 * own account schema (`AccountSchema`, the `accounts:` entries of icloud2mqtt's config file) plus the
 * plugin's options. `config.schema.json` for the Homebridge UI is generated from it
 * (`config-schema.ts`), so the form, its defaults and the plugin's validation never drift apart.
 */

const MqttSchema = z
  .object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/\S+$/, "must be an mqtt://, mqtts://, ws:// or wss:// URL")
      .nullable()
      .default(null)
      .describe('The MQTT broker of the running icloud2mqtt, e.g. "mqtt://192.168.1.10:1883".'),
    username: z.string().min(1).nullable().default(null).describe("Broker user name, if the broker needs one."),
    password: z.string().min(1).nullable().default(null).describe("Broker password, if the broker needs one."),
    base_topic: z
      .string()
      .min(1)
      .regex(/^[^+#/][^+#]*[^+#/]$|^[^+#/]$/, "must not contain + or # or start or end with /")
      .default("icloud2mqtt")
      .describe("The bridge's mqtt.base_topic."),
  })
  .describe('Connected mode ("mqtt"): the icloud2mqtt to use. Sign-in and codes then happen on that bridge.');

export const PluginConfigSchema = z
  .looseObject({
    name: z.string().min(1).default("iCloud").describe("The platform's name in the Homebridge log."),
    mode: z
      .enum(["embedded", "mqtt"])
      .default("embedded")
      .describe(
        'embedded: the plugin signs in to iCloud itself (no MQTT needed). mqtt: it uses a running icloud2mqtt over MQTT (the "mqtt" section).',
      ),
    accounts: z
      .array(AccountSchema)
      .default([])
      .describe(
        "Embedded mode: the iCloud accounts, as in icloud2mqtt's config file. Sign in with the code in this plugin's settings; paths are relative to <storage>/icloud2mqtt.",
      ),
    mqtt: MqttSchema.prefault({}),
    low_battery_percent: z
      .number()
      .int()
      .min(1)
      .max(99)
      .default(20)
      .describe("A device's battery at or below this percentage reports low battery."),
    locate_switch: z
      .boolean()
      .default(false)
      .describe('Add a "Locate" switch per device (active locating wakes the device and uses its battery).'),
    lost_mode_switch: z
      .boolean()
      .default(false)
      .describe('Add a "Lost mode" switch per device. Turning it on locks the device in Lost Mode; off by default.'),
    pulse_seconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(10)
      .describe('How long the "New photo" and "Missed call" motion sensors stay on after an event.'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.accounts.forEach((account, index) => {
      if (seen.has(account.id))
        ctx.addIssue({
          code: "custom",
          path: ["accounts", index, "id"],
          message: `duplicate account id "${account.id}"`,
        });
      seen.add(account.id);
    });
  });

export type PluginConfig = z.output<typeof PluginConfigSchema>;
export type PluginConfigInput = z.input<typeof PluginConfigSchema>;

/** Why a configuration was refused: `key.path: problem` per issue, never quoting a value. */
export class PluginConfigError extends Error {
  override readonly name = "PluginConfigError";
}

/**
 * Parses the platform's block of `config.json`. The Homebridge UI leaves empty strings, nulls and
 * empty objects behind for fields the user cleared; they mean "not set" and are dropped first.
 */
export function parsePluginConfig(raw: unknown): PluginConfig {
  const result = PluginConfigSchema.safeParse(dropEmpty(raw) ?? {});
  if (!result.success) {
    throw new PluginConfigError(
      result.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`).join("; "),
    );
  }
  return result.data;
}

/** True when the configuration asks the plugin to do something (the checker's `{platform}` alone does not). */
export function isConfigured(config: PluginConfig): boolean {
  return config.mode === "mqtt" ? config.mqtt.url !== null : config.accounts.length > 0;
}

/**
 * The accounts as the embedded engine gets them: relative paths (`password_file`, and each service's
 * path keys such as a photo download folder) resolved against the plugin's storage folder, so nothing is
 * written outside Homebridge's storage unless the user gives an absolute path.
 */
export function engineAccounts(config: PluginConfig, storageDir: string): AccountConfigInput[] {
  return config.accounts.map((account) => {
    const copy = structuredClone(account) as unknown as Record<string, unknown>;
    if (typeof copy["password_file"] === "string") copy["password_file"] = inside(storageDir, copy["password_file"]);
    for (const service of SERVICES) {
      for (const path of service.pathKeys ?? []) {
        let parent = copy[service.key] as Record<string, unknown> | undefined;
        for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string, unknown> | undefined;
        const leaf = path.at(-1);
        if (parent !== undefined && leaf !== undefined && typeof parent[leaf] === "string")
          parent[leaf] = inside(storageDir, parent[leaf]);
      }
    }
    return copy as unknown as AccountConfigInput;
  });
}

function inside(storageDir: string, path: string): string {
  if (path.startsWith("~/")) return path;
  return isAbsolute(path) ? path : resolve(storageDir, path);
}

function dropEmpty(value: unknown): unknown {
  if (value === null || (typeof value === "string" && value.trim() === "")) return undefined;
  if (Array.isArray(value)) return value.map(dropEmpty).filter((v) => v !== undefined);
  if (typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const cleaned = dropEmpty(child);
    if (cleaned !== undefined) out[key] = cleaned;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
