import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import type { ServiceTransport } from "../service-transport.ts";
import type { AppleFindMyResponse } from "./apple-schema.ts";
import { FmipClient, type LocateRequest } from "./fmip-client.ts";
import { mapDevice } from "./map-device.ts";
import type { FmipDevice } from "./types.ts";

export interface FindMyServiceOptions {
  /** Devices `locate()` wakes by default: none, all, or device ids or names. Default "none". */
  locate?: "none" | "all" | readonly string[];
  /** Include Family Sharing members' devices (`fmly`). Default true. */
  family?: boolean;
  logger?: Logger;
  /** How to wait between polls; tests inject one that moves a simulated clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Extra refreshes while family members' devices are still LOADING. Default 3. */
  maxLoadingRefreshes?: number;
}

export interface LocateOptions {
  /** Give up waiting after this long; default Apple's `maxLocatingTime` (90 s). */
  timeoutMs?: number;
  /** Poll interval; default Apple's callback interval (at least `minCallbackIntervalInMS`). */
  pollMs?: number;
}

const DEFAULT_INTERVAL_MS = 5_000;
const DEFAULT_MAX_LOCATING_MS = 90_000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Find My devices as `fmip.device`. `devices()` never wakes a device: it reads Apple's cached fixes
 * with fresh battery and status. Only `locate()` asks devices for a new fix, and only the chosen ones,
 * one request per device, because every locate wakes the device and costs battery.
 */
export class FindMyService {
  readonly #client: FmipClient;
  readonly #locate: "none" | "all" | readonly string[];
  readonly #log: Logger;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxLoadingRefreshes: number;
  readonly #family: boolean;
  #known: FmipDevice[] = [];

  constructor(transport: ServiceTransport, options: FindMyServiceOptions = {}) {
    this.#log = (options.logger ?? silentLogger).child({ service: "findmy" });
    this.#family = options.family ?? true;
    this.#client = new FmipClient(transport, this.#family, this.#log);
    this.#locate = options.locate ?? "none";
    this.#sleep = options.sleep ?? realSleep;
    this.#maxLoadingRefreshes = options.maxLoadingRefreshes ?? 3;
  }

  /** The device list without waking any device; waits (bounded) for family members still LOADING. */
  async devices(): Promise<FmipDevice[]> {
    let answer = await this.#client.refresh();
    const rounds = this.#family ? this.#maxLoadingRefreshes : 0;
    for (let round = 0; round < rounds && loadingMembers(answer) > 0; round += 1) {
      this.#log.debug("family devices still loading; refreshing again", { members: loadingMembers(answer) });
      await this.#sleep(this.#interval());
      answer = await this.#client.refresh();
    }
    return this.#map(answer);
  }

  /**
   * Locates `deviceIds` (ids or names; default: the `locate` option) and waits until their fixes are
   * finished or Apple's maxLocatingTime passed. Devices that cannot be located are never woken.
   * Every poll asks again for the locate of each device still locating (`shouldLocate` naming that
   * one device): Apple answers plain refreshes with the cached fix and only delivers the fresh one
   * to a locate request (timlaing/pyicloud#360). After an "all" request the polls name the devices
   * still locating one by one too, so devices that already answered are not woken again.
   */
  async locate(deviceIds?: readonly string[], options: LocateOptions = {}): Promise<FmipDevice[]> {
    const wanted = deviceIds ?? this.#locate;
    if (wanted === "none" || wanted.length === 0) return this.devices();
    if (wanted !== "all" && this.#known.length === 0) await this.devices();
    const requests = this.#requests(wanted);
    if (requests.length === 0) return this.devices();
    let devices = await this.#ask(requests);
    const targets = wanted === "all" ? undefined : new Set(requests.map((request) => request.selectedDevice));
    const timeout = options.timeoutMs ?? this.#client.serverContext?.maxLocatingTime ?? DEFAULT_MAX_LOCATING_MS;
    const interval = options.pollMs ?? this.#interval();
    let waited = 0;
    for (;;) {
      const pending: LocateRequest[] = devices
        .filter((device) => device.locating && (targets === undefined || targets.has(device.id)))
        .map((device) => ({ selectedDevice: device.id }));
      if (pending.length === 0) break;
      if (waited >= timeout) {
        this.#log.info("locate did not finish in time", { waited_ms: waited });
        break;
      }
      const step = Math.min(interval, timeout - waited);
      await this.#sleep(step);
      waited += step;
      devices = await this.#ask(pending);
    }
    return devices;
  }

  /** One locate request per entry (one device, or "all"); the devices of the last answer. */
  async #ask(requests: readonly LocateRequest[]): Promise<FmipDevice[]> {
    let answer: AppleFindMyResponse | undefined;
    for (const request of requests) answer = await this.#client.refresh(request);
    return answer === undefined ? this.#known : this.#map(answer);
  }

  /** Plays a sound on the device. */
  async playSound(id: string, subject = "Find My iPhone Alert"): Promise<FmipDevice | undefined> {
    return this.#action("playSound", id, { device: id, subject });
  }

  /** Shows a message on the device, optionally with a sound. */
  async sendMessage(
    id: string,
    message: { text: string; subject?: string; sound?: boolean },
  ): Promise<FmipDevice | undefined> {
    return this.#action("sendMessage", id, {
      device: id,
      subject: message.subject ?? "Find My iPhone Alert",
      userText: true,
      text: message.text,
      sound: message.sound ?? false,
      vibrate: false,
      strobe: false,
    });
  }

  /** Turns on Lost Mode with a message and an optional phone number and passcode. */
  async lostMode(
    id: string,
    lost: { text: string; phoneNumber?: string; passcode?: string },
  ): Promise<FmipDevice | undefined> {
    return this.#action("lostDevice", id, {
      device: id,
      text: lost.text,
      userText: true,
      ownerNbr: lost.phoneNumber ?? "",
      lostModeEnabled: true,
      trackingEnabled: true,
      emailUpdates: true,
      passcode: lost.passcode ?? "",
    });
  }

  async #action(
    name: "playSound" | "sendMessage" | "lostDevice",
    id: string,
    body: Record<string, unknown>,
  ): Promise<FmipDevice | undefined> {
    if (id === "") throw new EngineError("INVALID_INPUT", `Find My ${name}: a device id is required`);
    this.#log.info("Find My action", { action: name, device: id });
    const devices = this.#map(await this.#client.action(name, body));
    return devices.find((device) => device.id === id);
  }

  /** One locate request per chosen device (or one "all" request when the user asked for all). */
  #requests(wanted: "all" | readonly string[]): LocateRequest[] {
    if (wanted === "all") return [{ selectedDevice: "all" }];
    const requests: LocateRequest[] = [];
    for (const key of wanted) {
      const device = this.#known.find((candidate) => candidate.id === key) ?? this.#known.find((d) => d.name === key);
      if (device === undefined) {
        this.#log.warn("locate: no such device", { device: key });
        continue;
      }
      if (!device.location_capable) {
        this.#log.debug("locate: device cannot be located; not waking it", { device: device.id });
        continue;
      }
      if (!requests.some((request) => request.selectedDevice === device.id)) {
        requests.push({ selectedDevice: device.id });
      }
    }
    return requests;
  }

  #interval(): number {
    const context = this.#client.serverContext;
    const wanted = Math.max(context?.callbackIntervalInMS ?? 0, context?.minCallbackIntervalInMS ?? 0);
    const capped = Math.min(
      wanted || DEFAULT_INTERVAL_MS,
      context?.maxCallbackIntervalInMS ?? Number.POSITIVE_INFINITY,
    );
    return Math.max(1, capped);
  }

  #map(answer: AppleFindMyResponse): FmipDevice[] {
    const prsId = answer.serverContext?.prsId;
    const context = {
      members: answer.userInfo?.membersInfo ?? {},
      ownPrsId: prsId === null || prsId === undefined ? undefined : String(prsId),
    };
    this.#known = answer.content.map((device) => mapDevice(device, context));
    return this.#known;
  }
}

function loadingMembers(answer: AppleFindMyResponse): number {
  const members = Object.values(answer.userInfo?.membersInfo ?? {});
  return members.filter((member) => member.deviceFetchStatus === "LOADING").length;
}
