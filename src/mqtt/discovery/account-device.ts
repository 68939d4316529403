import type { AccountSummary } from "../../engine/api.ts";
import type { AccountAvailability } from "../service-view.ts";
import { objectSlug, type Topics } from "../topics.ts";
import { requestButton } from "./button.ts";
import { accountAvailability, bridgeAvailability, origin } from "./common.ts";
import { enumSensor, timestampSensor } from "./sensor.ts";
import { mfaCodeText } from "./text.ts";
import type { Component, DeviceDiscovery, EntityContext } from "./types.ts";

export const AUTH_STATUS_OPTIONS = ["active", "pending", "mfa_required", "failed", "expired"];
export const AUTH_STATUS_TEMPLATE =
  "{% if value_json.state == 'blocked' %}mfa_required{% else %}{{ value_json.session.state }}{% endif %}";

/** The entity contexts of an account's device: sign-in controls and data entities. */
export function accountEntityContexts(topics: Topics, account: string): AccountAvailability {
  const nodeId = topics.accountNodeId(account);
  const objectPrefix = `icloud_${objectSlug(account)}`;
  const control: EntityContext = { uniquePrefix: nodeId, objectPrefix, availability: bridgeAvailability(topics) };
  return { control, data: { ...control, availability: accountAvailability(topics, account) } };
}

/**
 * Discovery for one iCloud account. Sign-in controls (MFA code, resend, re-authenticate, auth
 * status, trust expiry) depend on the bridge only, so they stay usable while the account is
 * offline for MFA; data entities also depend on the account's availability. `services` are the
 * components the account's enabled services add (see each service's `mqtt.ts`).
 */
export function accountDiscovery(
  topics: Topics,
  version: string,
  account: Pick<AccountSummary, "id">,
  services: Record<string, Component> = {},
): DeviceDiscovery {
  const id = account.id;
  const nodeId = topics.accountNodeId(id);
  const { control, data } = accountEntityContexts(topics, id);
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
  Object.assign(cmps, services);
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
