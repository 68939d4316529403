import type { AccountState } from "../engine/account-state.ts";
import type { AccountSnapshot, AccountSummary } from "../engine/api.ts";
import { COMMAND_NAMES } from "../engine/commands.ts";
import type { CallkitCall } from "../icloud/calls/types.ts";
import type { FmipDevice } from "../icloud/findmy/types.ts";
import type { IcplAsset } from "../icloud/photos/types.ts";
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

export function deviceMessage(topics: Topics, account: string, device: FmipDevice): OutMessage {
  return { topic: topics.device(account, device.id), payload: JSON.stringify(device), retain: true };
}

export function lastCallMessage(topics: Topics, account: string, call: CallkitCall): OutMessage {
  return { topic: topics.callsLast(account), payload: JSON.stringify(call), retain: true };
}

/** The call event: `event_type` is `missed` for missed calls, else the call's direction. */
export function callEventMessage(topics: Topics, account: string, call: CallkitCall): OutMessage {
  const event_type = call.missed ? "missed" : call.direction;
  return { topic: topics.callsEvent(account), payload: JSON.stringify({ event_type, ...call }), retain: false };
}

export function latestPhotoMessages(
  topics: Topics,
  account: string,
  asset: IcplAsset,
  thumbnail: Buffer | null,
): OutMessage[] {
  const messages: OutMessage[] = [
    { topic: topics.photosLatest(account), payload: JSON.stringify(asset), retain: true },
  ];
  if (thumbnail !== null && thumbnail.length > 0) {
    messages.push({ topic: topics.photosThumbnail(account), payload: thumbnail, retain: true });
  }
  return messages;
}

export function photoEventMessage(topics: Topics, account: string, asset: IcplAsset): OutMessage {
  return {
    topic: topics.photosEvent(account),
    payload: JSON.stringify({ event_type: "new_photo", ...asset }),
    retain: false,
  };
}

export function photoCountMessage(topics: Topics, account: string, count: number): OutMessage {
  return { topic: topics.photosCount(account), payload: String(count), retain: true };
}

/** Every retained state message of one account's snapshot. */
export function snapshotMessages(topics: Topics, account: string, snapshot: AccountSnapshot): OutMessage[] {
  const messages = accountMessages(topics, snapshot.state);
  for (const device of snapshot.devices) messages.push(deviceMessage(topics, account, device));
  if (snapshot.lastCall !== null) messages.push(lastCallMessage(topics, account, snapshot.lastCall));
  if (snapshot.latestPhoto !== null) {
    const { asset, thumbnail } = snapshot.latestPhoto;
    messages.push(...latestPhotoMessages(topics, account, asset, thumbnail));
  }
  if (snapshot.photoCount !== null) messages.push(photoCountMessage(topics, account, snapshot.photoCount));
  return messages;
}
