import type { AccountSummary } from "../engine/api.ts";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { ServiceEvents } from "../engine/services/service-module.ts";
import { accountDiscovery, accountEntityContexts } from "./discovery/account-device.ts";
import { binarySensor } from "./discovery/binary-sensor.ts";
import { timestampSensor } from "./discovery/sensor.ts";
import type { Component, DeviceDiscovery, EntityContext } from "./discovery/types.ts";
import type { MqttServiceView, MqttViewContext } from "./service-view.ts";

export interface LoadedMqttView {
  key: string;
  /** For people: "Find My". */
  title: string;
  view: MqttServiceView<unknown, ServiceEvents>;
}

/** Every registered service's MQTT view, in registry order. */
export async function loadMqttViews(): Promise<LoadedMqttView[]> {
  return Promise.all(
    GENERIC_SERVICES.map(async (service) => ({
      key: service.key,
      title: service.title,
      view: (await service.views.mqtt()) as MqttServiceView<unknown, ServiceEvents>,
    })),
  );
}

export function serviceEnabled(account: Pick<AccountSummary, "services">, key: string): boolean {
  return (account.services as Record<string, boolean>)[key] === true;
}

/**
 * Every service's sync status, from the account's state topic (`services.<key>`): last and next sync
 * (timestamps) and a problem sensor that is ON while the service's last run failed, its message in the
 * attributes. They take the bridge's availability: a session waiting for a code still has a status.
 */
export function syncComponents(
  ctx: MqttViewContext,
  account: string,
  key: string,
  title: string,
  control: EntityContext,
): Record<string, Component> {
  const topic = ctx.topics.accountState(account);
  const status = `value_json.services[${JSON.stringify(key).replaceAll('"', "'")}]`;
  return {
    [`${key}_last_sync`]: timestampSensor(
      control,
      { key: `${key}_last_sync`, name: `${title} last sync`, entityCategory: "diagnostic" },
      topic,
      `{{ ${status}.last_sync }}`,
    ),
    [`${key}_next_sync`]: timestampSensor(
      control,
      { key: `${key}_next_sync`, name: `${title} next sync`, entityCategory: "diagnostic" },
      topic,
      `{{ ${status}.next_sync }}`,
    ),
    [`${key}_sync_problem`]: binarySensor(
      control,
      { key: `${key}_sync_problem`, name: `${title} sync problem`, entityCategory: "diagnostic" },
      "problem",
      topic,
      `{% set s = ${status} %}{% if s is not defined %}None{% elif s.enabled and s.message is not none %}ON{% else %}OFF{% endif %}`,
      undefined,
      {
        topic,
        template: `{% set s = ${status} %}{{ {"message": s.message, "available": s.available} | tojson }}`,
      },
    ),
  };
}

/** An account's Home Assistant device: the sign-in controls plus what each enabled service adds. */
export function composeAccountDiscovery(
  ctx: MqttViewContext,
  account: AccountSummary,
  views: readonly LoadedMqttView[],
): DeviceDiscovery {
  const contexts = accountEntityContexts(ctx.topics, account.id);
  const components: Record<string, Component> = {};
  for (const { key, title, view } of views) {
    if (!serviceEnabled(account, key)) continue;
    Object.assign(components, syncComponents(ctx, account.id, key, title, contexts.control));
    Object.assign(components, view.accountComponents(ctx, account, contexts));
  }
  return accountDiscovery(ctx.topics, ctx.version, account, components);
}
