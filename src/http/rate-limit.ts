/**
 * A sliding-window limiter: at most `limit` hits per key within `windowMs`. `hit` answers
 * how many seconds to wait when the key is over its limit (and then does not count the hit, so
 * attempts while limited never extend the wait). `wait` asks without counting.
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

  /** Seconds until `key` may hit again (0: now); counts nothing. */
  wait(key: string): number {
    const now = this.#now();
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length === 0) this.#hits.delete(key);
    else this.#hits.set(key, recent);
    if (recent.length < this.#limit) return 0;
    const oldest = recent[recent.length - this.#limit] ?? now;
    return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
  }

  /** Forgets a key's hits (a successful login clears its address's failures). */
  reset(key: string): void {
    this.#hits.delete(key);
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
