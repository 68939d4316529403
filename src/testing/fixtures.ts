import type { AccountState, ServiceStatus } from "../engine/account-state.ts";
import { SERVICES } from "../engine/services/registry.ts";
import type { ServiceKey } from "../engine/services/types.ts";
import type { CallkitCall } from "../icloud/calls/types.ts";
import type { FmipDevice } from "../icloud/findmy/types.ts";
import type { IcplAsset } from "../icloud/photos/types.ts";

/** Sample data in the engine's vocabulary, for front-end tests. Every value is invented. */

export interface FakeStateOptions {
  /** `ready` (default), `running`, or `blocked` (the default with `awaiting`). */
  state?: AccountState["state"];
  /** Blocked for a two-factor `code` (with the trusted numbers), a legacy two-step device `choice`, or a two-step code (`2sv`). */
  awaiting?: "code" | "choice" | "2sv";
  /** Services the account uses (default all). */
  services?: Partial<Record<ServiceKey, boolean>>;
}

/** Trusted numbers as Apple masks them. */
export const FAKE_PHONES = [
  { id: 1, number: "(•••) •••-••12", push_mode: "sms" },
  { id: 2, number: "+49 ••• •••••34", push_mode: "sms" },
];

function serviceStatus(enabled: boolean): ServiceStatus {
  return {
    enabled,
    available: enabled,
    message: enabled ? null : "disabled in the configuration",
    last_sync: null,
    next_sync: null,
  };
}

/** An account's state as the engine publishes it: signed in and ready, or blocked for a code or choice. */
export function fakeAccountState(account: string, options: FakeStateOptions = {}): AccountState {
  const services = Object.fromEntries(
    SERVICES.map(({ key }) => [key, serviceStatus(options.services?.[key] ?? true)]),
  ) as Record<ServiceKey, ServiceStatus>;
  const base: AccountState = {
    account,
    state: options.state ?? (options.awaiting === undefined ? "ready" : "blocked"),
    timestamp: 1_767_225_600_000,
    nextSync: 1_767_229_200_000,
    prevError: null,
    prevTrigger: "sync",
    progressMsg: null,
    progress: 100,
    session: { state: "active", error: null, error_info: null, trust_expires_at: "2026-03-01T00:00:00.000Z" },
    services,
  };
  if (options.awaiting === undefined) return base;
  const choice = options.awaiting === "choice";
  return {
    ...base,
    state: options.state ?? "blocked",
    progressMsg: choice ? "Waiting for a choice of device..." : "Waiting for MFA code...",
    progress: 25,
    prevTrigger: "auth",
    ...(options.awaiting === "code"
      ? { trustedPhoneNumbers: FAKE_PHONES.map((p) => ({ id: p.id, maskedNumber: p.number })) }
      : {}),
    session: {
      state: "failed",
      error: choice ? "choice-required" : "code-required",
      error_info: choice
        ? { choices: ["iPhone", "iPad"] }
        : options.awaiting === "2sv"
          ? {}
          : { trusted_phone_numbers: FAKE_PHONES },
      trust_expires_at: null,
    },
  };
}

/** A located iPhone (`fmip.device`). */
export function fakeDevice(id: string, name: string, battery = 80): FmipDevice {
  return {
    id,
    data_type: "fmip.device",
    name,
    model_name: "iPhone 15 Pro",
    model_identifier: "iPhone16,1",
    product_type: "iPhone",
    location: {
      data_type: "location",
      latitude: 52.37,
      longitude: 4.89,
      altitude: 3,
      horizontal_accuracy: 35,
      vertical_accuracy: 10,
      positioning_type: "GPS",
      date_created: "2026-01-01T10:00:00Z",
    },
    battery_status: "NotCharging",
    battery_level: battery / 100,
    battery_percent: battery,
    charging: false,
    low_power_mode: false,
    online: true,
    device_status: "200",
    location_capable: true,
    location_stale: false,
    locating: false,
    owner: null,
    last_located: "2026-01-01T10:00:00Z",
  };
}

/** A missed call (`callkit.call`). */
export const FAKE_CALL: CallkitCall = {
  id: "call-1",
  data_type: "callkit.call",
  address: "+31200000000",
  name: "Alice",
  date: "2026-01-01T09:00:00Z",
  duration: 0,
  direction: "incoming",
  answered: false,
  missed: true,
  call_type: "phone",
  service_provider: "com.apple.Telephony",
  iso_country_code: "nl",
};

/** A photo (`icpl.asset`). */
export const FAKE_ASSET: IcplAsset = {
  id: "asset-1",
  data_type: "icpl.asset",
  filename: "IMG_0001.HEIC",
  files: [],
  date_created: "2026-01-01T08:00:00Z",
  date_uploaded: "2026-01-01T08:05:00Z",
  media_type: "photo",
  favorite: false,
  hidden: false,
  master_id: "master-1",
  zone: "PrimarySync",
};

/** The smallest JPEG-looking bytes (SOI … EOI), for thumbnails. */
export const FAKE_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
