import type { AnyEvent, EngineEvents } from "icloud2mqtt/engine";
import type { NodeMessage } from "./red.ts";

/** The kinds of event the events node lets through, each a checkbox in its editor. */
export const EVENT_KINDS = ["calls", "photos", "syncFailed", "codeNeeded", "accountState", "other"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const KIND_OF: Record<string, EventKind> = {
  "call.new": "calls",
  "photo.new": "photos",
  "sync.failed": "syncFailed",
  "mfa.required": "codeNeeded",
  "account.state": "accountState",
};

/**
 * Which checkbox an event belongs to. Events this package does not name (the state mirrors such as
 * `photo.latest`, devices, and the events of data types added later) are "other"; log lines are no
 * events for flows.
 */
export function eventKind(name: string): EventKind | null {
  if (name === "log") return null;
  return KIND_OF[name] ?? "other";
}

/**
 * An engine event as a flow message: `msg.topic` is the event's name, `msg.account` the account id,
 * `msg.payload` what the event is about. Calls also carry `msg.event` (`incoming`, `outgoing`,
 * `missed`), new photos `msg.event = "new_photo"` and the JPEG thumbnail in `msg.thumbnail`.
 *
 * Events of data types this package does not know are converted by one rule: without `account`, a
 * payload with a single field becomes that field's value (`{ account, contact }` → the contact);
 * Buffers go to `msg.<field>` (binary data stays out of `msg.payload`).
 */
export function eventMessage(event: AnyEvent<EngineEvents>): NodeMessage {
  switch (event[0]) {
    case "call.new": {
      const { account, call } = event[1];
      return { topic: event[0], account, event: call.missed ? "missed" : call.direction, payload: call };
    }
    case "photo.new": {
      const { account, asset, thumbnail } = event[1];
      return { topic: event[0], account, event: "new_photo", payload: asset, thumbnail };
    }
    case "sync.failed": {
      const { account, code, message } = event[1];
      return { topic: event[0], account, payload: { code, message } };
    }
    case "mfa.required": {
      const { account, state } = event[1];
      return { topic: event[0], account, payload: codeRequest(state) };
    }
    case "account.state":
      return { topic: event[0], account: event[1].account, payload: event[1] };
    default:
      return genericMessage(event[0], event[1]);
  }
}

function genericMessage(name: string, payload: unknown): NodeMessage {
  if (typeof payload !== "object" || payload === null) return { topic: name, payload };
  const { account, ...rest } = payload as Record<string, unknown>;
  const msg: NodeMessage = { topic: name, account };
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (Buffer.isBuffer(value)) msg[key] = value;
    else data[key] = value;
  }
  const keys = Object.keys(data);
  msg.payload = keys.length === 1 ? data[keys[0] as string] : data;
  return msg;
}

/** What a flow needs to ask the user for a code: where it went, and where else it can be sent. */
export function codeRequest(state: EngineEvents["account.state"][0]) {
  const info = state.session.error_info;
  return {
    account: state.account,
    /** `code` (enter one), `choice` (legacy two-step: pick where to send it first). */
    awaiting: state.session.error === "choice-required" ? "choice" : "code",
    method: info?.method ?? null,
    /** Masked numbers a code can be sent to by SMS or voice (`push_mode` is Apple's default for the number). */
    trusted_phone_numbers:
      info?.trusted_phone_numbers ??
      (state.trustedPhoneNumbers ?? []).map((phone) => ({
        id: phone.id,
        number: phone.maskedNumber,
        push_mode: "sms",
      })),
    choices: info?.choices ?? [],
  };
}
