import { randomBytes } from "node:crypto";
import { z } from "zod";
import { toEngineError } from "../errors.ts";
import type { ApiDeps } from "./context.ts";
import { fromZod, invalidParameter } from "./errors.ts";
import { paginate } from "./pagination.ts";
import type { StorageConfig, Task, WebhookConfig } from "./records.ts";
import { ORGANISATION_ID, render, renderWebhookConfig } from "./resources.ts";
import { byId, created, ok, parseBody, type RequestContext, type Route, route } from "./router.ts";
import { parseS3Url, S3CredentialsSchema } from "./s3-storage.ts";
import { localStorageUrl } from "./storage.ts";
import { isoNow, newId } from "./time.ts";

const StorageCreate = z.object({
  url: z.string().min(1).max(1100),
  credentials: z.unknown().optional(),
});
const StorageUpdate = z.strictObject({
  url: z.string().min(1).max(1100).optional(),
  credentials: z.unknown().optional(),
});
const WebhookUrl = z
  .string()
  .max(2000)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === "";
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL without credentials");
const WebhookCreate = z.object({ url: WebhookUrl });
const WebhookUpdate = z.strictObject({ url: WebhookUrl.optional() });

/** A config test as a task of its own (ricloud answers config tests with a task). */
function testTask(key: string, target: string): Task {
  const now = isoNow();
  return {
    id: newId(),
    resource: "task",
    organisation: ORGANISATION_ID,
    key,
    user: null,
    source: null,
    session: null,
    poll: null,
    type: "test",
    target,
    source_type: null,
    state: "processing",
    results: [],
    error: null,
    message: null,
    date_created: now,
    date_started: now,
    date_completed: null,
  };
}

/** Storage configs (`local://` folders inside the state folder, `s3://` buckets) and webhook configs. */
export function configRoutes(d: ApiDeps): Route[] {
  const s = () => d.store.state;

  const finishTask = (task: Task, failure: string | null) => {
    task.state = failure === null ? "succeeded" : "failed";
    task.error = failure === null ? null : "test-failed";
    task.message = failure;
    task.date_completed = isoNow();
    d.store.changed();
  };

  /** Type, canonical URL and stored credentials of a storage config; `invalid-parameter` otherwise. */
  const storageTarget = (
    url: string,
    credentials: unknown,
    previous: StorageConfig["_credentials"] = null,
  ): Pick<StorageConfig, "type" | "url" | "_credentials"> => {
    if (url.startsWith("local://")) {
      if (credentials !== undefined && credentials !== null)
        throw invalidParameter("credentials", "local:// storage takes no credentials");
      return { type: "local", url: localStorageUrl(d.stateDir, url).url, _credentials: null };
    }
    if (url.startsWith("s3://")) {
      parseS3Url(url);
      const parsed = S3CredentialsSchema.safeParse(credentials ?? previous);
      if (!parsed.success) throw fromZod(parsed.error, "credentials");
      const { access_key_id, secret_access_key, region, endpoint } = parsed.data;
      return {
        type: "s3",
        url,
        _credentials: { access_key_id, secret_access_key, region, ...(endpoint === undefined ? {} : { endpoint }) },
      };
    }
    throw invalidParameter("url", "use local://<folder in the state folder> or s3://<bucket>/<prefix>");
  };

  const testStorage = async (config: StorageConfig, key: string): Promise<Task> => {
    const task = testTask(key, `storage_config:${config.id}`);
    s().tasks.push(task);
    try {
      await d.storage.backend(config).test();
      config.state = "valid";
      finishTask(task, null);
    } catch (error) {
      config.state = "invalid";
      finishTask(task, toEngineError(error).message);
    }
    return task;
  };

  const testWebhook = async (config: WebhookConfig, key: string): Promise<Task> => {
    const task = testTask(key, `webhook_config:${config.id}`);
    s().tasks.push(task);
    const event = d.events.emit("webhook_config", "test", renderWebhookConfig(config), key, config.id);
    const delivered = await d.events.deliverOnce(event, config);
    if (!delivered) {
      event.state = "failed";
      event._next_attempt = null;
    }
    config.state = delivered ? "valid" : "invalid";
    if (delivered && s().organisation.webhook_config_default === null)
      s().organisation.webhook_config_default = config.id;
    finishTask(task, delivered ? null : "the webhook URL did not answer the test event with a 2xx status");
    return task;
  };

  const deleteConfig = (kind: "storage_config" | "webhook_config", id: string) => {
    const defaultKey = kind === "storage_config" ? "storage_config_default" : "webhook_config_default";
    if (s().organisation[defaultKey] === id) s().organisation[defaultKey] = null;
    for (const settings of Object.values(s().keys)) if (settings[kind] === id) settings[kind] = null;
  };

  const testRoute = (kind: "storage" | "webhook") => async (ctx: RequestContext) => {
    if (kind === "storage") {
      const config = byId(s().storage_configs, ctx.params["id"], "storage_config");
      return ok(render(await testStorage(config, ctx.key.id)));
    }
    const config = byId(s().webhook_configs, ctx.params["id"], "webhook_config");
    return ok(render(await testWebhook(config, ctx.key.id)));
  };

  return [
    route("POST", "/configs/storage", async (ctx) => {
      const input = parseBody(ctx, StorageCreate);
      const target = storageTarget(input.url, input.credentials);
      const config: StorageConfig = {
        id: d.store.nextId("storage_config"),
        resource: "storage_config",
        organisation: ORGANISATION_ID,
        ...target,
        state: "new",
        date_created: isoNow(),
      };
      s().storage_configs.push(config);
      await testStorage(config, ctx.key.id);
      return created(render(config));
    }),
    route("GET", "/configs/storage", (ctx) => ok(paginate(s().storage_configs, ctx.query, ctx.path, render))),
    route("GET", "/configs/storage/:id", (ctx) =>
      ok(render(byId(s().storage_configs, ctx.params["id"], "storage_config"))),
    ),
    route("POST", "/configs/storage/:id", async (ctx) => {
      const config = byId(s().storage_configs, ctx.params["id"], "storage_config");
      const update = parseBody(ctx, StorageUpdate);
      if (update.url !== undefined || update.credentials !== undefined) {
        Object.assign(config, storageTarget(update.url ?? config.url, update.credentials, config._credentials));
        await testStorage(config, ctx.key.id);
      }
      d.store.changed();
      return ok(render(config));
    }),
    route("DELETE", "/configs/storage/:id", (ctx) => {
      const config = byId(s().storage_configs, ctx.params["id"], "storage_config");
      s().storage_configs = s().storage_configs.filter((candidate) => candidate !== config);
      deleteConfig("storage_config", config.id);
      config.state = "deactivated";
      d.store.changed();
      return ok(render(config));
    }),
    route("GET", "/configs/storage/:id/test", testRoute("storage")),
    route("POST", "/configs/storage/:id/test", testRoute("storage")),

    route("POST", "/configs/webhook", async (ctx) => {
      const input = parseBody(ctx, WebhookCreate);
      const config: WebhookConfig = {
        id: d.store.nextId("webhook_config"),
        resource: "webhook_config",
        organisation: ORGANISATION_ID,
        url: input.url,
        state: "new",
        date_created: isoNow(),
        _secret: randomBytes(32).toString("base64url"),
      };
      s().webhook_configs.push(config);
      d.store.changed();
      await testWebhook(config, ctx.key.id);
      return created(renderWebhookConfig(config, true));
    }),
    route("GET", "/configs/webhook", (ctx) =>
      ok(paginate(s().webhook_configs, ctx.query, ctx.path, (config) => renderWebhookConfig(config))),
    ),
    route("GET", "/configs/webhook/:id", (ctx) =>
      ok(renderWebhookConfig(byId(s().webhook_configs, ctx.params["id"], "webhook_config"))),
    ),
    route("POST", "/configs/webhook/:id", async (ctx) => {
      const config = byId(s().webhook_configs, ctx.params["id"], "webhook_config");
      const update = parseBody(ctx, WebhookUpdate);
      if (update.url !== undefined) {
        config.url = update.url;
        await testWebhook(config, ctx.key.id);
      }
      d.store.changed();
      return ok(renderWebhookConfig(config));
    }),
    route("DELETE", "/configs/webhook/:id", (ctx) => {
      const config = byId(s().webhook_configs, ctx.params["id"], "webhook_config");
      s().webhook_configs = s().webhook_configs.filter((candidate) => candidate !== config);
      deleteConfig("webhook_config", config.id);
      config.state = "deactivated";
      d.store.changed();
      return ok(renderWebhookConfig(config));
    }),
    route("GET", "/configs/webhook/:id/test", testRoute("webhook")),
    route("POST", "/configs/webhook/:id/test", testRoute("webhook")),
  ];
}
