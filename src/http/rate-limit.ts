/**
 * A sliding-window limiter: at most `limit` hits per key within `windowMs`. `hit` answers
 * how many seconds to wait when the key is over its limit (and then does not count the hit).
 */
export class RateLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(limit: number, windowMs = 60_000, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Records a hit; returns 0 when allowed, else the seconds until the next hit is allowed. */
  hit(key: string): number {
    const now = this.#now();
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length >= this.#limit) {
      this.#hits.set(key, recent);
      const oldest = recent[0] ?? now;
      return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
    }
    recent.push(now);
    this.#hits.set(key, recent);
    return 0;
  }
}
