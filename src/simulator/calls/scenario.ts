import { z } from "zod";
import { msOrDuration } from "../duration.ts";

/** The call types of the invented `CallRecord.callType` field (mirrors ZCALLRECORD.ZCALLTYPE). */
export const SIM_CALL_TYPES = ["phone", "facetimeAudio", "facetimeVideo", "thirdParty"] as const;
export type SimCallType = (typeof SIM_CALL_TYPES)[number];

/** Scenario spelling (ricloud's snake_case) → wire spelling. */
const SCENARIO_CALL_TYPES = {
  phone: "phone",
  facetime_audio: "facetimeAudio",
  facetime_video: "facetimeVideo",
  other: "thirdParty",
} as const satisfies Record<string, SimCallType>;

/** One call written out in a scenario, or added by a test at run time. */
export const ScenarioCallSchema = z
  .object({
    /** The record's `uniqueId`; derived from the account and position when omitted. */
    id: z.string().min(1).optional(),
    address: z.string().min(1),
    name: z.string().nullable().default(null),
    date: z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
    /** Seconds. */
    duration: z.number().nonnegative().default(0),
    direction: z.enum(["incoming", "outgoing"]),
    answered: z.boolean().default(true),
    call_type: z.enum(["phone", "facetime_audio", "facetime_video", "other"]).default("phone"),
    service_provider: z.string().optional(),
    iso_country_code: z.string().nullable().default("us"),
  })
  .strict()
  .transform((call) => ({ ...call, call_type: SCENARIO_CALL_TYPES[call.call_type] }));
export type ScenarioCallInput = z.input<typeof ScenarioCallSchema>;
export type ScenarioCall = z.output<typeof ScenarioCallSchema>;

/**
 * `accounts[].calls` of a simulator scenario. Without this section the account has no call-history
 * service at all (accountLogin does not advertise `callhistory`).
 */
export const CallsScenarioSchema = z
  .object({
    /** false: CallKit sync never set up; the zone does not exist (ZONE_NOT_FOUND → callkit-uninitialised). */
    initialised: z.boolean().default(true),
    /** Calls written out, in any order. */
    history: z.array(ScenarioCallSchema).default([]),
    /** Invented calls spread over `span` before the simulator started, the same for the same seed. */
    generate: z
      .object({
        count: z.number().int().min(0).max(100_000),
        seed: z.number().int().default(1),
        span: msOrDuration.default(30 * 86_400_000),
      })
      .strict()
      .optional(),
    /** A new invented call each time the simulator clock passes this interval (e.g. "10m"). */
    new_call_every: msOrDuration
      .refine((ms) => ms >= 1000, { message: "new_call_every must be at least 1s" })
      .optional(),
  })
  .strict();
export type CallsScenario = z.output<typeof CallsScenarioSchema>;
export type CallsScenarioInput = z.input<typeof CallsScenarioSchema>;

/** Parses an account's raw `calls` section; undefined when the account has none. Throws a readable error. */
export function parseCallsScenario(raw: unknown, appleId: string): CallsScenario | undefined {
  if (raw === undefined || raw === null) return undefined;
  const result = CallsScenarioSchema.safeParse(raw);
  if (!result.success) throw new Error(`invalid calls section for ${appleId}: ${z.prettifyError(result.error)}`);
  return result.data;
}
