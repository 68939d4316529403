import type { AccountSummary } from "../engine/api.ts";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { ServiceEvents } from "../engine/services/service-module.ts";
import { accountDiscovery, accountEntityContexts } from "./discovery/account-device.ts";
import type { Component, DeviceDiscovery } from "./discovery/types.ts";
import type { MqttServiceView, MqttViewContext } from "./service-view.ts";

export interface LoadedMqttView {
  key: string;
  view: MqttServiceView<unknown, ServiceEvents>;
}

/** Every registered service's MQTT view, in registry order. */
export async function loadMqttViews(): Promise<LoadedMqttView[]> {
  return Promise.all(
    GENERIC_SERVICES.map(async (service) => ({
      key: service.key,
      view: (await service.views.mqtt()) as MqttServiceView<unknown, ServiceEvents>,
    })),
  );
}

export function serviceEnabled(account: Pick<AccountSummary, "services">, key: string): boolean {
  return (account.services as Record<string, boolean>)[key] === true;
}

/** An account's Home Assistant device: the sign-in controls plus what each enabled service adds. */
export function composeAccountDiscovery(
  ctx: MqttViewContext,
  account: AccountSummary,
  views: readonly LoadedMqttView[],
): DeviceDiscovery {
  const contexts = accountEntityContexts(ctx.topics, account.id);
  const components: Record<string, Component> = {};
  for (const { key, view } of views) {
    if (serviceEnabled(account, key)) Object.assign(components, view.accountComponents(ctx, account, contexts));
  }
  return accountDiscovery(ctx.topics, ctx.version, account, components);
}
