import { securityKeyFields } from "./idmsa-signin-routes.ts";
import type { SimAccount } from "./sim-accounts.ts";

type Phone = SimAccount["config"]["mfa"]["trusted_phone_numbers"][number];

/** One trusted phone number as idmsa shows it. */
export function phoneJson(phone: Phone): Record<string, unknown> {
  const digits = phone.number.replace(/\D/g, "");
  const obfuscated = phone.number.replace(/^\+\d+\s*/, "");
  return {
    id: phone.id,
    numberWithDialCode: phone.number,
    pushMode: phone.push_mode,
    obfuscatedNumber: obfuscated,
    lastTwoDigits: digits.slice(-2),
  };
}

/** The limit flags of the `securityCode` object; all false until the auth session hits a code limit. */
export interface CodeLimitFlags {
  tooManyCodesSent: boolean;
  tooManyCodesValidated: boolean;
  securityCodeLocked: boolean;
}

export const NO_CODE_LIMITS: CodeLimitFlags = {
  tooManyCodesSent: false,
  tooManyCodesValidated: false,
  securityCodeLocked: false,
};

/** The `securityCode` object of auth options and 2FA states (reference 1.8.1). */
export function securityCodeState(flags: CodeLimitFlags = NO_CODE_LIMITS): Record<string, unknown> {
  return { length: 6, ...flags, securityCodeCooldown: false };
}

/** The `phoneNumberVerification` object (auth options, PUT /verify/phone answers). */
export function phoneNumberVerification(
  account: SimAccount,
  selectedId?: number,
  flags: CodeLimitFlags = NO_CODE_LIMITS,
): Record<string, unknown> {
  const phones = account.config.mfa.trusted_phone_numbers;
  const selected = phones.find((phone) => phone.id === selectedId) ?? phones[0];
  return {
    trustedPhoneNumbers: phones.map(phoneJson),
    ...(selected ? { trustedPhoneNumber: phoneJson(selected) } : {}),
    securityCode: securityCodeState(flags),
    authenticationType: "hsa2",
    recoveryUrl: "https://iforgot.apple.com/phone/add?prs_account_nm=&autoSubmitAccount=true&appId=142",
    cantUsePhoneNumberUrl:
      "https://iforgot.apple.com/iforgot/phone/add?context=cantuse&prs_account_nm=&autoSubmitAccount=true&appId=142",
    recoveryWebUrl:
      "https://iforgot.apple.com/password/verify/appleid?prs_account_nm=&autoSubmitAccount=true&appId=142",
    repairPhoneNumberUrl: "https://gsa.apple.com/appleid/account/manage/repair/verify/phone",
    repairPhoneNumberWebUrl: "https://appleid.apple.com/widget/account/repair?#!repair",
    aboutTwoFactorAuthenticationUrl: "https://support.apple.com/kb/HT204921",
    autoVerified: false,
    showAutoVerificationUI: false,
    supportsCustodianRecovery: false,
    hideSendSMSCodeOption: false,
    supervisedChangePasswordFlow: false,
    trustedPhoneNumberChangeFlow: false,
    hsa2Account: true,
    restrictedAccount: false,
    managedAccount: false,
  };
}

/** The 2FA state object the trusted-device endpoints answer with. */
export function twoFactorState(account: SimAccount, flags: CodeLimitFlags = NO_CODE_LIMITS): Record<string, unknown> {
  const devices = account.config.mfa.trusted_devices;
  return {
    trustedDeviceCount: devices.length,
    otherTrustedDeviceClass: devices[0]?.model ?? "iPhone",
    securityCode: securityCodeState(flags),
    phoneNumberVerification: phoneNumberVerification(account, undefined, flags),
    aboutTwoFactorAuthenticationUrl: "https://support.apple.com/kb/HT204921",
  };
}

/** The `boot_args` JSON of the `GET /appleauth/auth` page, phone list where the layout puts it. */
export function bootArgs(account: SimAccount, flags: CodeLimitFlags = NO_CODE_LIMITS): Record<string, unknown> {
  const verification = phoneNumberVerification(account, undefined, flags);
  const bridge2026 = account.phoneListLayout === "bridge2026";
  const twoSV: Record<string, unknown> = {
    supportedPushModes: ["voice", "sms"],
    authFactors: bridge2026 ? ["web_piggybacking", "sms"] : ["robocall", "sms", "generatedcode"],
    sourceAppId: 1159,
  };
  if (bridge2026) {
    const { trustedPhoneNumbers, trustedPhoneNumber, ...rest } = verification;
    twoSV["phoneNumberVerification"] = rest;
    twoSV["bridgeInitiateData"] = {
      apnsTopic: "com.apple.idmsauthwidget",
      apnsEnvironment: "prod",
      webSocketUrl: "websocket.push.apple.com",
      phoneNumberVerification: { trustedPhoneNumbers, trustedPhoneNumber },
    };
  } else {
    twoSV["phoneNumberVerification"] = verification;
  }
  const direct: Record<string, unknown> = {
    scriptSk7Url: "https://gsa.apple.com/static/sk7.js",
    authType: "hsa2",
    hasTrustedDevices: account.config.mfa.trusted_devices.length > 0,
    authInitialRoute: bridge2026 ? "auth/bridge/step" : "auth/verify/phone",
    twoSV,
    accountName: account.appleId,
  };
  if (account.config.security_key) Object.assign(direct, securityKeyFields());
  return { direct, additional: { canRoute2sv: true } };
}

/** The old JSON answer of `GET /appleauth/auth` (Accept: application/json); 2026 layout has no phone list. */
export function authOptionsJson(account: SimAccount, flags: CodeLimitFlags = NO_CODE_LIMITS): Record<string, unknown> {
  const base: Record<string, unknown> = {
    authType: "hsa2",
    trustedDeviceCount: account.config.mfa.trusted_devices.length,
    securityCode: securityCodeState(flags),
    mode: "sms",
    hsa2Account: true,
  };
  if (account.phoneListLayout === "legacy") Object.assign(base, phoneNumberVerification(account, undefined, flags));
  if (account.config.security_key) Object.assign(base, securityKeyFields());
  return base;
}

const escapeJson = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c");

export function authPageHtml(account: SimAccount, flags: CodeLimitFlags = NO_CODE_LIMITS): string {
  const args = bootArgs(account, flags);
  return [
    "<!DOCTYPE html>",
    '<html><head><meta charset="utf-8"><title>Apple Account</title>',
    `<script type="application/json" class="pre">${escapeJson({ isRaFF: false })}</script>`,
    `<script type="application/json" class="boot_args">\n${escapeJson(args)}\n</script>`,
    `<script type="application/json" class="post">${escapeJson({ isMobileWeb: false })}</script>`,
    '</head><body><div id="auth"></div></body></html>',
  ].join("\n");
}
