import { createHash } from "node:crypto";
import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import { byCodeUnits } from "../../../util/compare.ts";
import { uniqueSlug } from "../../../util/slug.ts";

/** A short key from an Apple device id, for names that leave nothing (`😀`): `device_1a2b3c4d`. */
function deviceKey(id: string): string {
  return `device_${createHash("sha256").update(id).digest("hex").slice(0, 8)}`;
}

/**
 * Friendly names of an account's devices (`fmip.device.slug`): the device's MQTT topic segment
 * (`<base>/<account>/devices/<slug>`) and Home Assistant object id. A name configured in
 * `findmy.friendly_names` (by device id, or by name ignoring case) always wins; any other device keeps
 * the name it was given once (so renaming it in iCloud moves no topic), and a new one gets Home
 * Assistant's slug of its name (`爸爸的手机` → `ba_ba_de_shou_ji`), `<slug>_2` when that is taken,
 * or a key from its id when the name leaves nothing. Names never repeat within an account.
 */
export class FriendlyNames {
  readonly #byId: ReadonlyMap<string, string>;
  readonly #byName: ReadonlyMap<string, string>;
  /** Configured names: no other device may take them. */
  readonly #reserved: ReadonlySet<string>;

  constructor(configured: Readonly<Record<string, string>>) {
    const byName = new Map<string, string>();
    for (const [key, name] of Object.entries(configured)) byName.set(key.toLowerCase(), name);
    this.#byId = new Map(Object.entries(configured));
    this.#byName = byName;
    this.#reserved = new Set(Object.values(configured));
  }

  /** The configured name of a device, if any. */
  configured(device: Pick<FmipDevice, "id" | "name">): string | undefined {
    return this.#byId.get(device.id) ?? this.#byName.get(device.name.toLowerCase());
  }

  /**
   * The friendly name of `device` among `known` (the account's devices by id, with the names they have
   * now; `device`'s own entry, if any, holds the name it had before).
   */
  assign(known: Readonly<Record<string, Pick<FmipDevice, "slug">>>, device: Pick<FmipDevice, "id" | "name">): string {
    const others = Object.entries(known).flatMap(([id, other]) => (id === device.id ? [] : [other.slug]));
    return this.#pick(others, device, known[device.id]?.slug);
  }

  /**
   * Gives every stored device its friendly name (devices stored before names existed, names changed in
   * the configuration). Configured names go first, then devices that had a name, then new ones, so no
   * device takes a name another one should keep.
   */
  assignAll(devices: Record<string, FmipDevice>): void {
    const order = Object.values(devices).sort(
      (a, b) =>
        Number(this.configured(b) !== undefined) - Number(this.configured(a) !== undefined) ||
        Number(b.slug !== undefined) - Number(a.slug !== undefined) ||
        byCodeUnits(a.id, b.id),
    );
    const given: string[] = [];
    for (const device of order) {
      const slug = this.#pick(given, device, device.slug);
      given.push(slug);
      devices[device.id] = { ...device, slug };
    }
  }

  #pick(others: readonly (string | undefined)[], device: Pick<FmipDevice, "id" | "name">, current?: string): string {
    const configured = this.configured(device);
    if (configured !== undefined) return configured;
    const taken = new Set(this.#reserved);
    for (const slug of others) if (slug !== undefined) taken.add(slug);
    if (current !== undefined && !taken.has(current)) return current;
    return uniqueSlug(device.name, deviceKey(device.id), taken);
  }
}
