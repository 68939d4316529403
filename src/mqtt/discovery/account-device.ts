import type { AccountSummary } from "../../engine/api.ts";
import type { AccountAvailability } from "../service-view.ts";
import { objectSlug, type Topics } from "../topics.ts";
import { binarySensor } from "./binary-sensor.ts";
import { requestButton } from "./button.ts";
import { accountAvailability, bridgeAvailability, origin } from "./common.ts";
import { enumSensor, sensor, timestampSensor } from "./sensor.ts";
import { mfaCodeText } from "./text.ts";
import type { Component, DeviceDiscovery, EntityContext } from "./types.ts";

export const AUTH_STATUS_OPTIONS = ["active", "pending", "mfa_required", "failed", "expired"];
export const AUTH_STATUS_TEMPLATE =
  "{% if value_json.state == 'blocked' %}mfa_required{% else %}{{ value_json.session.state }}{% endif %}";

/** Session errors only the user can end (a code, a password, Apple's settings); others are retried by the bridge. */
const USER_ERRORS = [
  "code-required",
  "choice-required",
  "invalid-credentials",
  "account-locked",
  "web-access-disabled",
  "security-key-required",
  "wrong-region",
];

/**
 * ON while the account needs the user: waiting for a code or choice, a sign-in error the bridge does not
 * retry, or a code wait that timed out (re-authenticate). Attributes say why.
 */
export const SIGN_IN_NEEDED_TEMPLATE = [
  "{% set s = value_json.session %}{% set e = value_json.prevError %}",
  "{% if value_json.state == 'blocked' or (s.state != 'active' and s.error in ",
  JSON.stringify(USER_ERRORS).replaceAll('"', "'"),
  ") or (e and e.code == 'mfa-timeout') %}ON{% else %}OFF{% endif %}",
].join("");
export const SIGN_IN_ATTRIBUTES_TEMPLATE =
  '{% set e = value_json.prevError %}{{ {"session": value_json.session.state, "error": value_json.session.error, "message": e.message if e else none} | tojson }}';

/** Whole days (one decimal) until the trust token expires, 0 once it has; unknown without one. */
export const TRUST_DAYS_TEMPLATE =
  "{% set t = value_json.session.trust_expires_at %}{% if t %}{{ ([(as_timestamp(t) - as_timestamp(now())) / 86400, 0] | max) | round(1) }}{% else %}None{% endif %}";

/**
 * The entity contexts of an account's device: sign-in controls and data entities take the bridge's
 * availability only (data keeps its last value while the session waits for a code), actions also the
 * account's session.
 */
export function accountEntityContexts(topics: Topics, account: string): AccountAvailability {
  const nodeId = topics.accountNodeId(account);
  const objectPrefix = `icloud_${objectSlug(account)}`;
  const control: EntityContext = { uniquePrefix: nodeId, objectPrefix, availability: bridgeAvailability(topics) };
  return { control, data: control, action: { ...control, availability: accountAvailability(topics, account) } };
}

/**
 * Discovery for one iCloud account. Sign-in controls (MFA code, resend, re-authenticate, auth
 * status, trust expiry, sign-in needed) and the services' data depend on the bridge only, so they stay
 * usable while the account is offline for MFA; actions also depend on the account's availability.
 * `services` are the components the account's enabled services add (see each service's `mqtt.ts`,
 * and the sync status entities of `service-views.ts`).
 */
export function accountDiscovery(
  topics: Topics,
  version: string,
  account: Pick<AccountSummary, "id">,
  services: Record<string, Component> = {},
): DeviceDiscovery {
  const id = account.id;
  const nodeId = topics.accountNodeId(id);
  const { control, action } = accountEntityContexts(topics, id);
  const stateTopic = topics.accountState(id);
  const resend = (method: "device" | "sms" | "voice", name: string) =>
    requestButton(
      control,
      { key: `resend_mfa_${method}`, name, icon: "mdi:message-lock" },
      topics.request("resend_mfa"),
      { account: id, method },
    );

  const cmps: Record<string, Component> = {
    mfa_code: mfaCodeText(
      control,
      { key: "mfa_code", name: "MFA code", icon: "mdi:two-factor-authentication" },
      topics.request("mfa"),
      topics.mfaCodeState(id),
      id,
    ),
    resend_mfa_device: resend("device", "Resend code to devices"),
    resend_mfa_sms: resend("sms", "Resend code by SMS"),
    resend_mfa_voice: resend("voice", "Resend code by voice call"),
    reauthenticate: requestButton(
      control,
      { key: "reauthenticate", name: "Re-authenticate", entityCategory: "config", icon: "mdi:account-sync" },
      topics.request("reauthenticate"),
      { account: id },
    ),
    sign_in_needed: binarySensor(
      control,
      { key: "sign_in_needed", name: "Sign-in needed" },
      "problem",
      stateTopic,
      SIGN_IN_NEEDED_TEMPLATE,
      undefined,
      { topic: stateTopic, template: SIGN_IN_ATTRIBUTES_TEMPLATE },
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
    trust_days_left: sensor(
      control,
      { key: "trust_days_left", name: "Trust expires in", icon: "mdi:calendar-lock" },
      {
        state_topic: stateTopic,
        value_template: TRUST_DAYS_TEMPLATE,
        device_class: "duration",
        unit_of_measurement: "d",
        state_class: "measurement",
        suggested_display_precision: 0,
      },
    ),
    sync: requestButton(action, { key: "sync", name: "Sync now", icon: "mdi:sync" }, topics.request("sync"), {
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
