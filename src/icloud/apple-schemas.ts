import { z } from "zod";

/** zod schemas of Apple's answers (loose: Apple adds fields). */

export const signinInitSchema = z
  .object({
    iteration: z.number().int().positive(),
    salt: z.string().min(1),
    protocol: z.enum(["s2k", "s2k_fo"]),
    b: z.string().min(1),
    c: z.string().min(1),
  })
  .loose();

const serviceErrorSchema = z
  .object({ code: z.union([z.string(), z.number()]).optional(), message: z.string().optional() })
  .loose();

export const appleErrorBodySchema = z
  .object({
    serviceErrors: z.array(serviceErrorSchema).optional(),
    service_errors: z.array(serviceErrorSchema).optional(),
    authType: z.string().optional(),
    auth_type: z.string().optional(),
  })
  .loose();

/** The error codes in an idmsa error body (`serviceErrors` or `service_errors`). */
export function serviceErrorCodes(body: unknown): string[] {
  const parsed = appleErrorBodySchema.safeParse(body);
  if (!parsed.success) return [];
  return [...(parsed.data.serviceErrors ?? []), ...(parsed.data.service_errors ?? [])]
    .map((e) => (e.code === undefined ? "" : String(e.code)))
    .filter((c) => c !== "");
}

export const trustedPhoneSchema = z
  .object({
    id: z.number().int(),
    numberWithDialCode: z.string().optional(),
    obfuscatedNumber: z.string().optional(),
    pushMode: z.string().optional(),
    lastTwoDigits: z.string().optional(),
  })
  .loose();

export const phoneNumberVerificationSchema = z
  .object({
    trustedPhoneNumbers: z.array(trustedPhoneSchema).optional(),
    trustedPhoneNumber: trustedPhoneSchema.optional(),
  })
  .loose();

export const authOptionsSchema = z
  .object({
    trustedPhoneNumbers: z.array(trustedPhoneSchema).optional(),
    trustedPhoneNumber: trustedPhoneSchema.optional(),
    phoneNumberVerification: phoneNumberVerificationSchema.optional(),
    authType: z.string().optional(),
    fsaChallenge: z.unknown().optional(),
    keyNames: z.unknown().optional(),
    direct: z
      .object({
        authType: z.string().optional(),
        fsaChallenge: z.unknown().optional(),
        twoSV: z
          .object({
            phoneNumberVerification: phoneNumberVerificationSchema.optional(),
            bridgeInitiateData: z
              .object({ phoneNumberVerification: phoneNumberVerificationSchema.optional() })
              .loose()
              .optional(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const dsInfoSchema = z
  .object({
    dsid: z.union([z.string(), z.number()]).transform(String),
    hsaVersion: z.number().optional(),
    appleId: z.string().optional(),
    isWebAccessAllowed: z.boolean().optional(),
  })
  .loose();

export const accountLoginSchema = z
  .object({
    dsInfo: dsInfoSchema,
    webservices: z.record(z.string(), z.object({ url: z.string(), status: z.string().optional() }).loose()).default({}),
    hsaChallengeRequired: z.boolean().optional(),
    hsaTrustedBrowser: z.boolean().optional(),
    domainToUse: z.string().optional(),
  })
  .loose();

export type AccountLogin = z.infer<typeof accountLoginSchema>;

/** A body such as `{"domainToUse":"iCloud.com"}` or `{"success":false,"error":1}` instead of dsInfo. */
export const accountLoginOtherSchema = z
  .object({ domainToUse: z.string().optional(), success: z.boolean().optional(), error: z.unknown().optional() })
  .loose();

export const twoSvDeviceSchema = z
  .object({
    deviceType: z.string().optional(),
    deviceName: z.string().optional(),
    phoneNumber: z.string().optional(),
    areaCode: z.string().optional(),
    deviceId: z.union([z.string(), z.number()]).transform(String),
  })
  .loose();

export type TwoSvDevice = z.infer<typeof twoSvDeviceSchema>;

export const listDevicesSchema = z.object({ devices: z.array(twoSvDeviceSchema).default([]) }).loose();

export const successSchema = z
  .object({
    success: z.boolean().optional(),
    errorCode: z.union([z.string(), z.number()]).optional(),
    errorTitle: z.string().optional(),
  })
  .loose();
