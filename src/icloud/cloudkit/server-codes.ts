/**
 * CloudKit web services' `serverErrorCode`s after which a retry later may succeed (the sync token
 * must not move): the same for every container (Photos, the call history service, …).
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "RETRY_LATER",
  "TRY_AGAIN_LATER",
  "THROTTLED",
  "CAS_OP_LOCK",
]);
