import { z } from "zod";

/**
 * iCloud.com's calendar web service as the public clients read it (timlaing/pyicloud
 * `pyicloud/services/calendar.py`: `ca/startup` → `Collection`, `ca/events?startDate&endDate&usertz`
 * → `Event`, dates as `[YYYYMMDD, year, month, day, hour, minute, minutes]` arrays). Loose: Apple adds
 * fields freely.
 */

/** `["20270329", 2027, 3, 29, 9, 0, 540]`; only the year to minute are read. */
export const AppleDateSchema = z
  .tuple([z.union([z.string(), z.number()]), z.number(), z.number(), z.number(), z.number(), z.number()])
  .rest(z.unknown());
export type AppleDate = z.infer<typeof AppleDateSchema>;

export const WireCollectionSchema = z
  .object({
    guid: z.string().min(1),
    title: z.string().nullish(),
    ctag: z.string().nullish(),
    color: z.string().nullish(),
    readOnly: z.boolean().nullish(),
    enabled: z.boolean().nullish(),
    supportedType: z.string().nullish(),
  })
  .loose();
export type WireCollection = z.infer<typeof WireCollectionSchema>;

export const WireEventSchema = z
  .object({
    guid: z.string().min(1),
    pGuid: z.string().min(1),
    title: z.string().nullish(),
    location: z.string().nullish(),
    tz: z.string().nullish(),
    allDay: z.boolean().nullish(),
    startDate: AppleDateSchema,
    endDate: AppleDateSchema,
    localStartDate: AppleDateSchema.nullish(),
    localEndDate: AppleDateSchema.nullish(),
    recurrenceMaster: z.boolean().nullish(),
    recurrenceException: z.boolean().nullish(),
    recurrence: z.string().nullish(),
  })
  .loose();
export type WireEvent = z.infer<typeof WireEventSchema>;

export const StartupSchema = z.object({ Collection: z.array(z.unknown()).default([]) }).loose();
export const EventsSchema = z.object({ Event: z.array(z.unknown()).default([]) }).loose();
