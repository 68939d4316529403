import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

/**
 * The settings.js keys these nodes read (Node-RED asks for names prefixed with the node type):
 * `icloudAccountEndpoint` replaces every Apple host (the icloud2mqtt simulator, for tests and demos),
 * `icloudAccountGraceMs` is how long an embedded engine outlives its account node (a redeploy takes
 * it back), `icloudAccountBridgeRetryMs` how often bridge mode looks for icloud2mqtt again.
 */
const SettingsSchema = z.object({
  userDir: z.string().min(1).optional(),
  icloudAccountEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  icloudAccountGraceMs: z.number().int().min(0).default(60_000),
  icloudAccountBridgeRetryMs: z.number().int().min(100).default(15_000),
  icloudAccountBridgeStartTimeoutMs: z.number().int().min(100).default(10_000),
});

export interface RuntimeSettings {
  userDir: string;
  endpoint: string | null;
  graceMs: number;
  bridgeRetryMs: number;
  bridgeStartTimeoutMs: number;
}

/** Reads the settings; a wrong value is reported and its default used. */
export function runtimeSettings(settings: Record<string, unknown>, warn: (message: string) => void): RuntimeSettings {
  const keys = Object.keys(SettingsSchema.shape) as Array<keyof typeof SettingsSchema.shape>;
  const raw: Record<string, unknown> = {};
  for (const key of keys) {
    const value = settings[key];
    if (value === undefined) continue;
    const one = SettingsSchema.shape[key].safeParse(value);
    if (one.success) raw[key] = value;
    else warn(`settings.js: ${key} ignored: ${one.error.issues[0]?.message ?? "invalid"}`);
  }
  const parsed = SettingsSchema.parse(raw);
  return {
    userDir: parsed.userDir ?? join(homedir(), ".node-red"),
    endpoint: parsed.icloudAccountEndpoint ?? null,
    graceMs: parsed.icloudAccountGraceMs,
    bridgeRetryMs: parsed.icloudAccountBridgeRetryMs,
    bridgeStartTimeoutMs: parsed.icloudAccountBridgeStartTimeoutMs,
  };
}
