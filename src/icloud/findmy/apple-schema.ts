import { z } from "zod";

/**
 * Apple's Find My answers (initClient, refreshClient, actions), only the fields the bridge reads.
 * Loose objects: Apple adds fields freely. Values Apple sometimes sends as null or leaves out are optional.
 */

const nullableNumber = z.number().nullable().optional();

export const AppleLocationSchema = z
  .object({
    latitude: z.number(),
    longitude: z.number(),
    altitude: nullableNumber,
    horizontalAccuracy: nullableNumber,
    verticalAccuracy: nullableNumber,
    positionType: z.string().nullable().optional(),
    timeStamp: z.number(),
    isOld: z.boolean().nullable().optional(),
    isInaccurate: z.boolean().nullable().optional(),
    locationFinished: z.boolean().nullable().optional(),
  })
  .loose();

export const AppleDeviceSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().nullable().optional(),
    deviceDisplayName: z.string().nullable().optional(),
    rawDeviceModel: z.string().nullable().optional(),
    modelDisplayName: z.string().nullable().optional(),
    deviceClass: z.string().nullable().optional(),
    batteryLevel: nullableNumber,
    batteryStatus: z.string().nullable().optional(),
    lowPowerMode: z.boolean().nullable().optional(),
    deviceStatus: z.union([z.string(), z.number()]).nullable().optional(),
    isLocating: z.boolean().nullable().optional(),
    locationEnabled: z.boolean().nullable().optional(),
    locationCapable: z.boolean().nullable().optional(),
    prsId: z.union([z.string(), z.number()]).nullable().optional(),
    fmlyShare: z.boolean().nullable().optional(),
    location: AppleLocationSchema.nullable().optional(),
  })
  .loose();

export const AppleMemberSchema = z
  .object({
    firstName: z.string().nullable().optional(),
    lastName: z.string().nullable().optional(),
    appleId: z.string().nullable().optional(),
    deviceFetchStatus: z.string().nullable().optional(),
  })
  .loose();

export const AppleServerContextSchema = z
  .object({
    callbackIntervalInMS: nullableNumber,
    minCallbackIntervalInMS: nullableNumber,
    maxCallbackIntervalInMS: nullableNumber,
    maxLocatingTime: nullableNumber,
    sessionLifespan: nullableNumber,
    serverTimestamp: nullableNumber,
    prsId: z.union([z.string(), z.number()]).nullable().optional(),
  })
  .loose();

export const AppleFindMyResponseSchema = z
  .object({
    statusCode: z.union([z.string(), z.number()]).optional(),
    userInfo: z
      .object({
        firstName: z.string().nullable().optional(),
        lastName: z.string().nullable().optional(),
        membersInfo: z.record(z.string(), AppleMemberSchema).nullable().optional(),
      })
      .loose()
      .nullable()
      .optional(),
    serverContext: AppleServerContextSchema.nullable().optional(),
    content: z.array(AppleDeviceSchema).default([]),
  })
  .loose();

export type AppleLocation = z.infer<typeof AppleLocationSchema>;
export type AppleDevice = z.infer<typeof AppleDeviceSchema>;
export type AppleMember = z.infer<typeof AppleMemberSchema>;
export type AppleServerContext = z.infer<typeof AppleServerContextSchema>;
export type AppleFindMyResponse = z.infer<typeof AppleFindMyResponseSchema>;
