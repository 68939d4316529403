import type { AccountSummary } from "../../engine/api.ts";
import { objectSlug, type Topics } from "../topics.ts";
import { requestButton } from "./button.ts";
import { accountAvailability, bridgeAvailability, origin } from "./common.ts";
import { eventEntity } from "./event.ts";
import { jpegImage } from "./image.ts";
import { enumSensor, sensor, timestampSensor } from "./sensor.ts";
import { mfaCodeText } from "./text.ts";
import type { Component, DeviceDiscovery, EntityContext } from "./types.ts";

export const AUTH_STATUS_OPTIONS = ["active", "pending", "mfa_required", "failed", "expired"];
export const AUTH_STATUS_TEMPLATE =
  "{% if value_json.state == 'blocked' %}mfa_required{% else %}{{ value_json.session.state }}{% endif %}";
export const CALL_EVENT_TYPES = ["incoming", "outgoing", "missed"];
export const PHOTO_EVENT_TYPES = ["new_photo"];

/**
 * Discovery for one iCloud account. Sign-in controls (MFA code, resend, re-authenticate, auth
 * status, trust expiry) depend on the bridge only, so they stay usable while the account is
 * offline for MFA; data entities also depend on the account's availability.
 */
export function accountDiscovery(
  topics: Topics,
  version: string,
  account: Pick<AccountSummary, "id" | "services">,
): DeviceDiscovery {
  const id = account.id;
  const nodeId = topics.accountNodeId(id);
  const objectPrefix = `icloud_${objectSlug(id)}`;
  const control: EntityContext = { uniquePrefix: nodeId, objectPrefix, availability: bridgeAvailability(topics) };
  const data: EntityContext = { ...control, availability: accountAvailability(topics, id) };
  const stateTopic = topics.accountState(id);
  const resend = (method: "device" | "sms" | "voice", name: string) =>
    requestButton(
      control,
      { key: `resend_mfa_${method}`, name, entityCategory: "config", icon: "mdi:message-lock" },
      topics.request("resend_mfa"),
      { account: id, method },
    );

  const cmps: Record<string, Component> = {
    mfa_code: mfaCodeText(
      control,
      { key: "mfa_code", name: "MFA code", icon: "mdi:two-factor-authentication" },
      topics.request("mfa"),
      id,
    ),
    resend_mfa_device: resend("device", "Resend code to devices"),
    resend_mfa_sms: resend("sms", "Resend code by SMS"),
    resend_mfa_voice: resend("voice", "Resend code by voice call"),
    reauthenticate: requestButton(
      control,
      { key: "reauthenticate", name: "Re-authenticate", entityCategory: "config" },
      topics.request("reauthenticate"),
      { account: id },
      "restart",
    ),
    auth_status: enumSensor(
      control,
      { key: "auth_status", name: "Authentication", entityCategory: "diagnostic", icon: "mdi:account-key" },
      stateTopic,
      AUTH_STATUS_TEMPLATE,
      AUTH_STATUS_OPTIONS,
    ),
    trust_expires: timestampSensor(
      control,
      { key: "trust_expires", name: "Trust expires", entityCategory: "diagnostic" },
      stateTopic,
      "{{ value_json.session.trust_expires_at }}",
    ),
    sync: requestButton(data, { key: "sync", name: "Sync now", icon: "mdi:sync" }, topics.request("sync"), {
      account: id,
    }),
  };
  if (account.services.findmy) {
    cmps["locate_all"] = requestButton(
      data,
      { key: "locate_all", name: "Locate all devices", icon: "mdi:crosshairs-gps" },
      topics.request("locate"),
      { account: id },
    );
  }
  if (account.services.calls) {
    const last = topics.callsLast(id);
    cmps["last_call"] = timestampSensor(
      data,
      { key: "last_call", name: "Last call", icon: "mdi:phone-log" },
      last,
      "{{ value_json.date }}",
      last,
    );
    cmps["call"] = eventEntity(data, { key: "call", name: "Call" }, topics.callsEvent(id), CALL_EVENT_TYPES);
  }
  if (account.services.photos) {
    cmps["latest_photo"] = jpegImage(
      data,
      { key: "latest_photo", name: "Latest photo" },
      topics.photosThumbnail(id),
      topics.photosLatest(id),
    );
    cmps["new_photo"] = eventEntity(
      data,
      { key: "new_photo", name: "New photo" },
      topics.photosEvent(id),
      PHOTO_EVENT_TYPES,
    );
    cmps["photo_count"] = sensor(
      data,
      { key: "photo_count", name: "Photo count", icon: "mdi:image-multiple" },
      {
        state_topic: topics.photosCount(id),
        state_class: "measurement",
      },
    );
  }
  return {
    device: {
      identifiers: [nodeId],
      name: `iCloud ${id}`,
      manufacturer: "Apple",
      model: "iCloud account",
      via_device: topics.bridgeNodeId(),
    },
    origin: origin(version),
    cmps,
  };
}
