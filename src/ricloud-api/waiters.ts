/** Callers waiting for something keyed by id (a session or poll to settle), each with a time limit. */
export class Waiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves on `wake(id)` or after `ms`, whichever comes first. */
  wait(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.#waiting.get(id) ?? new Set();
      this.#waiting.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.#waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref?.();
      set.add(done);
    });
  }

  wake(id: string): void {
    for (const done of [...(this.#waiting.get(id) ?? [])]) done();
  }

  wakeAll(): void {
    for (const id of [...this.#waiting.keys()]) this.wake(id);
  }
}
