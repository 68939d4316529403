import type { SessionSnapshot } from "../icloud/session-types.ts";
import type { AccountState, ServiceStatus, SessionView } from "./account-state.ts";
import { SERVICES } from "./services/registry.ts";
import type { ServiceKey } from "./services/types.ts";

/** The mutable part of an account's state; `AccountRunner` owns one and renders it with `render`. */
export interface StatusFields {
  state: AccountState["state"];
  timestamp: number;
  nextSync: number | null;
  prevError: AccountState["prevError"];
  prevTrigger: AccountState["prevTrigger"];
  progressMsg: string | null;
  progress: number | null;
  services: Record<ServiceKey, ServiceStatus>;
}

export function initialStatus(enabled: Record<ServiceKey, boolean>): StatusFields {
  const service = (on: boolean): ServiceStatus => ({
    enabled: on,
    available: on,
    message: on ? null : "disabled in the configuration",
    last_sync: null,
    next_sync: null,
  });
  return {
    state: "ready",
    timestamp: Date.now(),
    nextSync: null,
    prevError: null,
    prevTrigger: null,
    progressMsg: null,
    progress: null,
    services: Object.fromEntries(SERVICES.map(({ key }) => [key, service(enabled[key])])) as Record<
      ServiceKey,
      ServiceStatus
    >,
  };
}

export function sessionView(snapshot: SessionSnapshot): SessionView {
  const info = snapshot.error_info;
  return {
    state: snapshot.state,
    error: snapshot.error,
    error_info:
      info === null
        ? null
        : {
            ...(info.choices ? { choices: info.choices } : {}),
            ...(info.trusted_phone_numbers ? { trusted_phone_numbers: info.trusted_phone_numbers } : {}),
            ...(info.retry_after === undefined ? {} : { retry_after: info.retry_after }),
            ...(info.method === undefined ? {} : { method: info.method }),
          },
    trust_expires_at: snapshot.trust_expires_at,
  };
}

export function render(account: string, fields: StatusFields, snapshot: SessionSnapshot): AccountState {
  const phones = snapshot.error_info?.trusted_phone_numbers;
  return {
    account,
    state: fields.state,
    timestamp: fields.timestamp,
    nextSync: fields.nextSync,
    prevError: fields.prevError,
    prevTrigger: fields.prevTrigger,
    progressMsg: fields.progressMsg,
    progress: fields.progress,
    ...(phones ? { trustedPhoneNumbers: phones.map((p) => ({ id: p.id, maskedNumber: p.number })) } : {}),
    session: sessionView(snapshot),
    services: structuredClone(fields.services),
  };
}
