import type { Characteristic, PlatformAccessory, Service } from "homebridge";

/** A characteristic's value as a HomeKit controller reads it (through its `onGet` handler). */
export async function value(service: Service | undefined, name: string): Promise<unknown> {
  const characteristic = service?.characteristics.find((c: Characteristic) => c.displayName === name);
  if (characteristic === undefined) throw new Error(`no characteristic ${name} on ${service?.displayName}`);
  return characteristic.handleGetRequest();
}

/** The accessory's service with this subtype. */
export function service(accessory: PlatformAccessory, subtype: string): Service {
  const found = accessory.services.find((s) => s.subtype === subtype);
  if (found === undefined) throw new Error(`${accessory.displayName} has no ${subtype} service`);
  return found;
}

const SKIP = new Set(["Name", "Configured Name", "Identify", "Firmware Revision", "Hardware Revision"]);

/**
 * Everything a controller would read from the accessory: per service (by subtype, or its type's name),
 * each characteristic's value, as read through the handlers.
 */
export async function readAccessory(accessory: PlatformAccessory): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of accessory.services) {
    const values: Record<string, unknown> = {};
    for (const c of s.characteristics) {
      if (SKIP.has(c.displayName)) continue;
      values[c.displayName] = await c.handleGetRequest();
    }
    out[s.subtype ?? s.constructor.name] = values;
  }
  return out;
}
