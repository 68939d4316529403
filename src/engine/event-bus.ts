import { EventEmitter } from "node:events";
import { type Logger, silentLogger } from "../logger.ts";

type Listener<A extends unknown[]> = (...args: A) => void | Promise<void>;

/** Every event as one tuple: its name, then its arguments (`["device.updated", { account, device }]`). */
export type AnyEvent<Events extends { [K in keyof Events]: unknown[] }> = {
  [K in keyof Events & string]: [K, ...Events[K]];
}[keyof Events & string];

/** The emitter's name for `onAny` listeners: a symbol, so it never clashes with an event name. */
const ANY = Symbol("any event");

/**
 * A typed in-process bus. Listeners are registered under an owner so a front-end can remove
 * all of its listeners at once; a throwing or rejecting listener is logged and never reaches
 * the emitter or the other listeners.
 */
export class EventBus<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #emitter = new EventEmitter();
  readonly #owners = new Map<object, Array<{ event: string | symbol; wrapped: (...args: unknown[]) => void }>>();
  readonly #log: Logger;

  constructor(log: Logger = silentLogger) {
    this.#log = log;
    this.#emitter.setMaxListeners(0);
  }

  on<K extends keyof Events & string>(owner: object, event: K, listener: Listener<Events[K]>): void {
    this.#add(owner, event, event, listener as Listener<unknown[]>);
  }

  /**
   * Listens to every event, including those of data types added later (a front-end that forwards
   * events generically, such as Node-RED's events node). Called after the event's own listeners.
   */
  onAny(owner: object, listener: (...event: AnyEvent<Events>) => void | Promise<void>): void {
    this.#add(owner, ANY, "*", listener as unknown as Listener<unknown[]>);
  }

  #add(owner: object, event: string | symbol, label: string, listener: Listener<unknown[]>): void {
    const ownerName = owner.constructor?.name ?? "listener";
    const wrapped = (...args: unknown[]): void => {
      const report = (error: unknown) =>
        this.#log.error(`event listener ${ownerName}/${label} failed`, {
          error: error instanceof Error ? error.message : String(error),
        });
      try {
        const result = listener(...args);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
      }
    };
    this.#emitter.on(event, wrapped);
    const list = this.#owners.get(owner) ?? [];
    list.push({ event, wrapped });
    this.#owners.set(owner, list);
  }

  emit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    this.#emitter.emit(event, ...args);
    this.#emitter.emit(ANY, event, ...args);
  }

  removeListeners(owner: object): void {
    for (const { event, wrapped } of this.#owners.get(owner) ?? []) this.#emitter.off(event, wrapped);
    this.#owners.delete(owner);
  }

  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.#emitter.listenerCount(event);
  }
}
