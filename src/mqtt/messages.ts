import { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { AccountSummary } from "../engine/api.ts";
import { COMMAND_NAMES } from "../engine/commands.ts";
import { maskUsername } from "./redact.ts";
import type { Topics } from "./topics.ts";

/** One MQTT message the bridge sends; `retain` messages are published only on change. */
export interface OutMessage {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
}

export const ONLINE = JSON.stringify({ state: "online" });
export const OFFLINE = JSON.stringify({ state: "offline" });

export interface BridgeInfo {
  version: string;
  commands: string[];
  accounts: Array<{ id: string; username: string; services: AccountSummary["services"] }>;
}

/** `<base>/bridge/state` as read back (remote engine); unknown keys are allowed for later additions. */
export const BridgeStateSchema = z.object({ state: z.enum(["online", "offline"]) }).loose();

/**
 * `<base>/bridge/info` as read back. Services are a plain map so that a bridge with another set of
 * services still parses; the reader keeps the ones it knows.
 */
export const BridgeInfoSchema = z
  .object({
    version: z.string(),
    commands: z.array(z.string()),
    accounts: z.array(
      z.object({ id: z.string().min(1), username: z.string(), services: z.record(z.string(), z.boolean()) }).loose(),
    ),
  })
  .loose();

export function bridgeInfo(version: string, accounts: AccountSummary[]): BridgeInfo {
  return {
    version,
    commands: [...COMMAND_NAMES],
    accounts: accounts.map((a) => ({ id: a.id, username: maskUsername(a.username), services: a.services })),
  };
}

/** `online` while the iCloud session is active; `offline` while it waits for MFA, failed or expired. */
export function availabilityOf(state: AccountState): "online" | "offline" {
  return state.session.state === "active" ? "online" : "offline";
}

export function accountMessages(topics: Topics, state: AccountState): OutMessage[] {
  return [
    { topic: topics.accountState(state.account), payload: JSON.stringify(state), retain: true },
    { topic: topics.accountAvailability(state.account), payload: availabilityOf(state), retain: true },
  ];
}
