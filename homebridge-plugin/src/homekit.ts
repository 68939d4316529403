import type { PlatformAccessory } from "homebridge";
import type { AccountSummary, FmipDevice } from "icloud2mqtt/engine";
import { AccountAccessory, accountSeed, isAccountContext } from "./accessories/account-accessory.ts";
import {
  DeviceAccessory,
  type DeviceContext,
  deviceContext,
  deviceSeed,
  isDeviceContext,
} from "./accessories/device-accessory.ts";
import type { Kit } from "./accessories/kit.ts";
import { describeError } from "./errors.ts";
import { cleanName, PLATFORM_NAME, PLUGIN_NAME } from "./names.ts";

const HOUR_MS = 3600 * 1000;

/**
 * The platform's accessories on one engine: creates, re-attaches and removes them from the engine's
 * snapshots, and keeps their characteristics current from its events. Accessories restored from
 * Homebridge's cache are reused (same UUID); a device whose id Apple changed is re-attached to its
 * cached accessory when its name and model match one no current device uses.
 */
export class HomeKit {
  readonly #kit: Kit;
  /** Every accessory of the platform Homebridge knows (restored or registered), by UUID. */
  readonly #known = new Map<string, PlatformAccessory>();
  readonly #devices = new Map<string, DeviceAccessory>();
  readonly #accounts = new Map<string, AccountAccessory>();

  constructor(kit: Kit, cached: Iterable<PlatformAccessory>) {
    this.#kit = kit;
    for (const accessory of cached) this.#known.set(accessory.UUID, accessory);
  }

  /** The accessories in use (for tests and logs). */
  get accessories(): PlatformAccessory[] {
    return [...this.#accounts.values(), ...this.#devices.values()].map((a) => a.accessory);
  }

  start(): void {
    const { engine } = this.#kit;
    const summaries = engine.accounts();
    for (const summary of summaries) {
      const account = this.#account(summary);
      const snapshot = engine.snapshot(summary.id);
      account.updateState(snapshot.state);
      for (const device of snapshot.findmy.devices) this.#deviceUpdated(summary.id, device);
      account.updateDevices(snapshot.findmy.devices);
    }
    this.#removeStale(summaries);

    const bus = engine.bus;
    const guard =
      <A extends unknown[]>(what: string, run: (...args: A) => void) =>
      (...args: A) => {
        try {
          run(...args);
        } catch (error) {
          this.#kit.log.error(`${what}: ${describeError(error)}`);
        }
      };
    bus.on(
      this,
      "account.state",
      guard("account state", (state) => this.#accounts.get(state.account)?.updateState(state)),
    );
    bus.on(
      this,
      "device.updated",
      guard("device update", ({ account, device }) => {
        this.#deviceUpdated(account, device);
        this.#accounts.get(account)?.updateDevices(engine.snapshot(account).findmy.devices);
      }),
    );
    bus.on(
      this,
      "device.removed",
      guard("device removal", ({ account, deviceId }) => {
        const device = this.#devices.get(key(account, deviceId));
        if (device) this.#remove([device.accessory]);
        this.#devices.delete(key(account, deviceId));
        this.#accounts.get(account)?.updateDevices(engine.snapshot(account).findmy.devices);
      }),
    );
    bus.on(
      this,
      "photo.new",
      guard("new photo", ({ account }) => this.#accounts.get(account)?.photo?.pulse()),
    );
    bus.on(
      this,
      "call.new",
      guard("new call", ({ account, call }) => {
        if (call.missed) this.#accounts.get(account)?.call?.pulse();
      }),
    );
    this.#kit.timers.every(HOUR_MS, () => {
      for (const account of this.#accounts.values()) account.refresh();
    });
  }

  stop(): void {
    this.#kit.engine.bus.removeListeners(this);
    this.#kit.timers.clear();
  }

  #account(summary: AccountSummary): AccountAccessory {
    const uuid = this.#kit.api.hap.uuid.generate(accountSeed(summary.id));
    let accessory = this.#known.get(uuid);
    const fresh = accessory === undefined;
    if (accessory === undefined) {
      accessory = new this.#kit.api.platformAccessory(cleanName(`iCloud ${summary.id}`), uuid);
      accessory.context = { kind: "account", account: summary.id };
    }
    const account = new AccountAccessory(this.#kit, accessory, summary);
    this.#accounts.set(summary.id, account);
    this.#keep(accessory, fresh);
    return account;
  }

  #deviceUpdated(account: string, device: FmipDevice): void {
    const id = key(account, device.id);
    let bound = this.#devices.get(id);
    if (bound === undefined) {
      const uuid = this.#kit.api.hap.uuid.generate(deviceSeed(account, device.id));
      let accessory = this.#known.get(uuid) ?? this.#orphanFor(account, device);
      const fresh = accessory === undefined;
      if (accessory === undefined) {
        accessory = new this.#kit.api.platformAccessory(cleanName(device.name), uuid);
        this.#kit.log.info(`adding ${device.name} (${device.model_name})`);
      } else if (isDeviceContext(accessory.context) && accessory.context.deviceId !== device.id) {
        this.#kit.log.info(`${device.name}: Apple gave the device a new id; keeping its accessory`);
      }
      const before = JSON.stringify(accessory.context);
      accessory.context = deviceContext(account, device);
      bound = new DeviceAccessory(this.#kit, accessory);
      this.#devices.set(id, bound);
      this.#keep(accessory, fresh, before !== JSON.stringify(accessory.context));
    } else if (bound.context.name !== device.name || bound.context.model !== device.model_name) {
      bound.accessory.context = deviceContext(account, device);
      this.#kit.api.updatePlatformAccessories([bound.accessory]);
    }
    bound.update(device);
  }

  /** A cached device accessory of the account with this name and model that no current device uses. */
  #orphanFor(account: string, device: FmipDevice): PlatformAccessory | undefined {
    const current = new Set(this.#kit.engine.snapshot(account).findmy.devices.map((d) => d.id));
    const bound = new Set([...this.#devices.values()].map((d) => d.accessory.UUID));
    for (const accessory of this.#known.values()) {
      const ctx = accessory.context as DeviceContext;
      if (
        isDeviceContext(ctx) &&
        !bound.has(accessory.UUID) &&
        ctx.account === account &&
        ctx.name === device.name &&
        ctx.model === device.model_name &&
        !current.has(ctx.deviceId)
      )
        return accessory;
    }
    return undefined;
  }

  #keep(accessory: PlatformAccessory, fresh: boolean, changed = false): void {
    this.#known.set(accessory.UUID, accessory);
    if (fresh) this.#kit.api.registerPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, [accessory]);
    else if (changed) this.#kit.api.updatePlatformAccessories([accessory]);
  }

  /** Cached accessories no configured account or current device stands for. */
  #removeStale(summaries: readonly AccountSummary[]): void {
    const byId = new Map(summaries.map((s) => [s.id, s]));
    const bound = new Set(this.accessories.map((a) => a.UUID));
    const stale: PlatformAccessory[] = [];
    for (const accessory of this.#known.values()) {
      if (bound.has(accessory.UUID)) continue;
      const ctx: unknown = accessory.context;
      const summary = isDeviceContext(ctx) || isAccountContext(ctx) ? byId.get(ctx.account) : undefined;
      if (summary === undefined || isAccountContext(ctx) || !summary.services.findmy) stale.push(accessory);
      else if (this.#kit.engine.snapshot(summary.id).findmy.devices.length > 0) stale.push(accessory);
    }
    this.#remove(stale);
  }

  #remove(accessories: PlatformAccessory[]): void {
    if (accessories.length === 0) return;
    for (const accessory of accessories) {
      this.#known.delete(accessory.UUID);
      this.#kit.log.info(`removing ${accessory.displayName}`);
    }
    this.#kit.api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, accessories);
  }
}

function key(account: string, deviceId: string): string {
  return `${account}\n${deviceId}`;
}
