import { z } from "zod";

export const FAULT_KINDS = [
  "status",
  "unavailable",
  "rate_limit",
  "latency",
  "reset",
  "malformed",
  "truncated",
  "hang",
  "short_body",
] as const;

/**
 * One injected fault, as written in a scenario file or posted to `POST /__sim/faults`.
 * `endpoint` is a route id (`idmsa.signin.init`, `setup.validate`, `fmip.refreshClient`, ...) or `*`.
 */
export const FaultSpecSchema = z.object({
  endpoint: z.string().min(1),
  kind: z.enum(FAULT_KINDS),
  /** `status`: the HTTP status to answer (default 500). */
  status: z.number().int().min(100).max(599).optional(),
  /** `status`: a JSON body (object/array/number/...) or, when a string, a text/plain body. */
  body: z.unknown().optional(),
  /** `status`: extra response headers (e.g. `X-Apple-I-Ercd`). */
  headers: z.record(z.string(), z.string()).optional(),
  /** `rate_limit`: Retry-After seconds (default 60). */
  retry_after: z.number().int().nonnegative().optional(),
  /**
   * `short_body`: bytes of the normal answer's body sent (default half); the response ends cleanly
   * with a matching Content-Length, as a proxy or server that gave up early would.
   */
  bytes: z.number().int().nonnegative().optional(),
  /** `latency`: delay before the normal answer (default 1000 ms). */
  delay_ms: z.number().int().nonnegative().optional(),
  /** How many matching requests it hits; unlimited when omitted. */
  times: z.number().int().positive().optional(),
});

export type FaultSpec = z.output<typeof FaultSpecSchema>;

/** A fault as kept at run time: the spec plus an id and how many hits are left. */
export interface ActiveFault extends FaultSpec {
  id: number;
  remaining: number | null;
  hits: number;
}
