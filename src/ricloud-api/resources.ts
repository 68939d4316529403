import type { KeyRecord } from "./key-store.ts";
import type { KeySettings, Poll, Result, WebhookConfig } from "./records.ts";
import type { ApiStore } from "./store.ts";

/** The one organisation of a self-hosted API (ricloud's organisations are its customers). */
export const ORGANISATION_ID = "1";

/** A stored record as the API answers it: fields starting with `_` never leave the process. */
export function render<T extends object>(record: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !key.startsWith("_")));
}

export function renderPoll(poll: Poll, results: ReadonlyMap<string, Result>): Record<string, unknown> {
  return {
    ...render(poll),
    // ricloud's getting-started shows `tasks_completed`; its reference lists succeeded and failed.
    tasks_completed: [...poll.tasks_succeeded, ...poll.tasks_failed],
    results: poll.results.flatMap((id) => {
      const result = results.get(id);
      return result === undefined ? [] : [render(result)];
    }),
  };
}

export function renderWebhookConfig(config: WebhookConfig, withSecret = false): Record<string, unknown> {
  return { ...render(config), ...(withSecret ? { secret: config._secret } : {}) };
}

export function renderKey(key: KeyRecord, settings: KeySettings): Record<string, unknown> {
  return {
    id: key.id,
    resource: "key",
    organisation: ORGANISATION_ID,
    name: key.name,
    type: "standard",
    prefix: key.prefix,
    storage_config: settings.storage_config,
    webhook_config: settings.webhook_config,
    state: key.date_revoked === null ? "active" : "revoked",
    date_created: key.date_created,
    date_expires: null,
  };
}

/** The organisation; `state` is `active` once a valid storage config is the default. */
export function renderOrganisation(store: ApiStore, dataTypes: readonly string[]): Record<string, unknown> {
  const s = store.state;
  const storage = s.storage_configs.find((config) => config.id === s.organisation.storage_config_default);
  return {
    id: 1,
    resource: "organisation",
    name: s.organisation.name,
    slug: s.organisation.name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
    permissions: {
      id: 1,
      resource: "organisation_permissions",
      identifier: "default",
      scopes: Object.fromEntries([
        ["source_type:icloud.account", []],
        ["task_type:*", []],
        ...dataTypes.map((dataType) => [`data_type:${dataType}`, []]),
      ]),
      date_created: s.organisation.date_created,
    },
    storage_configs: s.storage_configs.map((config) => render(config)),
    storage_config_default: s.organisation.storage_config_default,
    webhook_configs: s.webhook_configs.map((config) => renderWebhookConfig(config)),
    webhook_config_default: s.organisation.webhook_config_default,
    state: storage?.state === "valid" ? "active" : "unconfigured",
    date_created: s.organisation.date_created,
  };
}
