import type { EngineError } from "../errors.ts";

interface Pending {
  command: string;
  resolve(data: unknown): void;
  reject(error: EngineError): void;
  timer: NodeJS.Timeout;
}

/** Requests sent to the bridge that wait for their response, by transaction id; each with its own timeout. */
export class PendingRequests {
  readonly #pending = new Map<string, Pending>();

  get size(): number {
    return this.#pending.size;
  }

  /** Waits for `transaction`'s response; after `timeoutMs` rejects with `timeout()`. */
  wait(transaction: string, command: string, timeoutMs: number, timeout: () => EngineError): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(timeout());
      }, timeoutMs);
      this.#pending.set(transaction, { command, resolve, reject, timer });
    });
  }

  /** Settles a request with its response; false when the transaction is not ours (or not for `command`). */
  settle(
    transaction: string,
    command: string,
    outcome: { ok: true; data: unknown } | { ok: false; error: EngineError },
  ) {
    const pending = this.#pending.get(transaction);
    if (pending === undefined || pending.command !== command) return false;
    this.#pending.delete(transaction);
    clearTimeout(pending.timer);
    if (outcome.ok) pending.resolve(outcome.data);
    else pending.reject(outcome.error);
    return true;
  }

  /** Rejects every waiting request (connection lost, bridge offline, stop). */
  rejectAll(error: (command: string) => EngineError): void {
    for (const [transaction, pending] of this.#pending) {
      this.#pending.delete(transaction);
      clearTimeout(pending.timer);
      pending.reject(error(pending.command));
    }
  }
}
