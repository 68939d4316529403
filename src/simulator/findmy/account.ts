import { createHash, randomUUID } from "node:crypto";
import { DeviceState } from "./device-state.ts";
import { renderEnvelope } from "./render.ts";
import type { FindMyScenario } from "./scenario.ts";

/** Find My web session lifetime (serverContext.sessionLifespan). */
export const SESSION_LIFESPAN_MS = 900_000;

export type FindMyActionKind = "playSound" | "sendMessage" | "lostDevice";

/** An action a client sent, as recorded for tests. */
export interface FindMyAction {
  kind: FindMyActionKind;
  device: string;
  at: number;
  body: Record<string, unknown>;
}

interface FmipSession {
  info: string;
  clientId: string;
  startedAt: number;
  served: number;
}

/** What tests can read about one account's Find My world. */
export interface FindMyProbe {
  /** Locate requests per device id. */
  woken(): Record<string, number>;
  actions(): readonly FindMyAction[];
  /** initClient calls answered (new Find My sessions included). */
  initClients(): number;
}

export type SessionLookup = { ok: true; session: FmipSession } | { ok: false };

/** One account's simulated Find My: devices, family, Find My web sessions and recorded actions. */
export class FindMyAccount implements FindMyProbe {
  readonly scenario: FindMyScenario;
  readonly devices: DeviceState[];
  readonly prsId: number;
  readonly #sessions = new Map<string, FmipSession>();
  readonly #actions: FindMyAction[] = [];
  #initClients = 0;

  constructor(dsid: string, scenario: FindMyScenario, epoch: number) {
    this.scenario = scenario;
    this.devices = scenario.devices.map((spec) => new DeviceState(spec, epoch));
    this.prsId = /^\d{1,15}$/.test(dsid) ? Number(dsid) : createHash("sha256").update(dsid).digest().readUInt32BE(0);
  }

  /**
   * The Find My session bound to one iCloud web session (`webSession` identifies its cookies).
   * The first Find My call of a web session starts it; 15 minutes later every call of that web
   * session fails (450) until the client signs in again and gets new cookies.
   */
  session(webSession: string, now: number, init: boolean): SessionLookup {
    let session = this.#sessions.get(webSession);
    if (session !== undefined && now - session.startedAt >= SESSION_LIFESPAN_MS) return { ok: false };
    if (session === undefined) {
      session = { info: randomUUID(), clientId: randomUUID(), startedAt: now, served: 0 };
      this.#sessions.set(webSession, session);
    }
    if (init) {
      this.#initClients += 1;
      session.served = 0;
    }
    return { ok: true, session };
  }

  device(id: string): DeviceState | undefined {
    return this.devices.find((device) => device.spec.id === id);
  }

  /** Devices a request may see: the holder's, plus family members' when `fmly` is set. */
  visible(family: boolean): DeviceState[] {
    return this.devices.filter((device) => family || device.spec.owner === null);
  }

  /**
   * A locate request (`selectedDevice` "all" or one id): starts or continues the devices' locates and
   * returns the devices it asked for, the only ones whose fresh fix its answer may carry. Unknown ids
   * are ignored.
   */
  locate(selected: string, family: boolean, now: number): ReadonlySet<DeviceState> {
    const asked = new Set<DeviceState>();
    for (const device of this.visible(family)) {
      if (selected === "all" || device.spec.id === selected) {
        device.requestLocate(now);
        asked.add(device);
      }
    }
    return asked;
  }

  record(action: FindMyAction): void {
    this.#actions.push(action);
  }

  /**
   * The refreshClient envelope. Like Apple (timlaing/pyicloud#360), a finished locate's fresh fix is
   * only delivered to a request that asked for that device's locate (`asked`); any other answer
   * keeps the cached fix.
   */
  envelope(
    session: FmipSession,
    now: number,
    family: boolean,
    asked: ReadonlySet<DeviceState> = new Set(),
  ): Record<string, unknown> {
    for (const device of this.devices) device.settle(now, asked.has(device));
    const body = renderEnvelope({
      scenario: this.scenario,
      prsId: this.prsId,
      clientId: session.clientId,
      sessionInfo: session.info,
      now,
      served: session.served,
      family,
      devices: this.devices,
    });
    session.served += 1;
    return body;
  }

  woken(): Record<string, number> {
    return Object.fromEntries(this.devices.map((device) => [device.spec.id, device.woken]));
  }

  actions(): readonly FindMyAction[] {
    return [...this.#actions];
  }

  initClients(): number {
    return this.#initClients;
  }
}
