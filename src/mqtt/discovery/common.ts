import type { Topics } from "../topics.ts";
import type { Availability, ComponentBase, EntityCategory, EntityContext, Origin } from "./types.ts";

export const ORIGIN_NAME = "icloud2mqtt";
export const ORIGIN_URL = "https://github.com/icloud2mqtt/icloud2mqtt";

export function origin(version: string): Origin {
  return { name: ORIGIN_NAME, sw: version, url: ORIGIN_URL };
}

/** The bridge alone: for entities that must work while the account is offline (MFA entry). */
export function bridgeAvailability(topics: Topics): Availability[] {
  return [{ topic: topics.bridgeState, value_template: "{{ value_json.state }}" }];
}

/** The bridge and the account's session: for entities that act on iCloud (buttons, notify). */
export function accountAvailability(topics: Topics, account: string): Availability[] {
  return [...bridgeAvailability(topics), { topic: topics.accountAvailability(account) }];
}

export interface EntityNaming {
  /** Component id inside `cmps`; also the unique_id and object-id suffix (`battery`). */
  key: string;
  /**
   * Entity name; `null` takes the device name; left out (undefined), Home Assistant names it after its
   * device class in the user's language (battery, charging, connectivity, …).
   */
  name?: string | null;
  entityCategory?: EntityCategory;
  icon?: string;
}

/** The options shared by every component, in a fixed key order. */
export function componentBase<P extends string>(
  platform: P,
  ctx: EntityContext,
  naming: EntityNaming,
  /** Object id without the key suffix (the device tracker is named after its device). */
  bareObjectId = false,
): ComponentBase & { p: P } {
  const objectId = bareObjectId ? ctx.objectPrefix : `${ctx.objectPrefix}_${naming.key}`;
  return {
    p: platform,
    ...(naming.name === undefined ? {} : { name: naming.name }),
    unique_id: `${ctx.uniquePrefix}_${naming.key}`,
    default_entity_id: `${platform}.${objectId}`,
    ...(ctx.availability.length === 0 ? {} : { availability: ctx.availability, availability_mode: "all" as const }),
    ...(naming.entityCategory === undefined ? {} : { entity_category: naming.entityCategory }),
    ...(naming.icon === undefined ? {} : { icon: naming.icon }),
  };
}
