import { z } from "zod";
import type { ApiDeps } from "./context.ts";
import { invalidParameter, RicloudError } from "./errors.ts";
import { paginate } from "./pagination.ts";
import type { Source, User } from "./records.ts";
import { ORGANISATION_ID, render, renderKey, renderOrganisation } from "./resources.ts";
import { byId, created, filtered, ok, parseBody, type Route, route } from "./router.ts";
import { isoNow } from "./time.ts";

const idField = z.union([z.string().min(1).max(100), z.number().int().nonnegative()]).transform(String);
const nullableId = idField.nullable();

const OrganisationUpdate = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  storage_config_default: nullableId.optional(),
  webhook_config_default: nullableId.optional(),
});
const KeyUpdate = z.strictObject({
  storage_config: nullableId.optional(),
  webhook_config: nullableId.optional(),
});
const UserCreate = z.object({ identifier: z.string().min(1).max(255) });
const UserUpdate = z.strictObject({
  identifier: z.string().min(1).max(255).optional(),
  state: z.enum(["active", "deactivated"]).optional(),
});
export const SourceRef = z.object({
  user: idField,
  type: z.literal("icloud.account"),
  identifier: z.string().min(1).max(255),
});
const SourceUpdate = z.strictObject({ state: z.enum(["active", "deactivated"]).optional() });

/** The user's source for an Apple ID, created on first use; refused for an Apple ID the engine does not run. */
export function sourceFor(d: ApiDeps, ref: z.output<typeof SourceRef>, param = "source"): Source {
  const s = d.store.state;
  const user = s.users.find((candidate) => candidate.id === ref.user);
  if (user === undefined) throw invalidParameter(`${param}.user`, "no such user");
  if (user.state !== "active") throw invalidParameter(`${param}.user`, `the user is ${user.state}`);
  const wanted = ref.identifier.trim().toLowerCase();
  const account = d.api.accounts().find((candidate) => candidate.username.toLowerCase() === wanted);
  if (account === undefined)
    throw new RicloudError(
      403,
      "source-not-configured",
      "this icloud2mqtt does not run an account with this Apple ID; add it under accounts: in its configuration",
      { [`${param}.identifier`]: "not an account of this icloud2mqtt" },
    );
  const existing = s.sources.find((source) => source.user === user.id && source._account === account.id);
  if (existing !== undefined) return existing;
  const source: Source = {
    id: d.store.nextId("source"),
    resource: "source",
    organisation: ORGANISATION_ID,
    user: user.id,
    type: "icloud.account",
    identifier: account.username,
    parent: null,
    children: [],
    state: "unvalidated",
    date_created: isoNow(),
    _account: account.id,
  };
  s.sources.push(source);
  d.store.changed();
  return source;
}

/** Organisation, keys, users and sources. */
export function accountRoutes(d: ApiDeps): Route[] {
  const s = () => d.store.state;
  const checkConfig = (list: { id: string }[], id: string | null | undefined, param: string) => {
    if (id !== null && id !== undefined && !list.some((config) => config.id === id))
      throw invalidParameter(param, "no such config");
  };
  const organisation = () => renderOrganisation(d.store, [...d.types.keys(), "info.account"]);
  return [
    route("GET", "/organisation", () => ok(organisation())),
    route("POST", "/organisation", (ctx) => {
      const update = parseBody(ctx, OrganisationUpdate);
      checkConfig(s().storage_configs, update.storage_config_default, "storage_config_default");
      checkConfig(s().webhook_configs, update.webhook_config_default, "webhook_config_default");
      Object.assign(
        s().organisation,
        Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined)),
      );
      d.store.changed();
      return ok(organisation());
    }),

    route("GET", "/key", (ctx) => ok(renderKey(ctx.key, d.store.keySettings(ctx.key.id)))),
    route("GET", "/keys", async (ctx) => {
      const keys = await d.keys.list();
      return ok(paginate(keys, ctx.query, ctx.path, (key) => renderKey(key, d.store.keySettings(key.id))));
    }),
    route("GET", "/keys/:id", async (ctx) => {
      const key = byId(await d.keys.list(), ctx.params["id"], "key");
      return ok(renderKey(key, d.store.keySettings(key.id)));
    }),
    route("POST", "/keys/:id", async (ctx) => {
      const key = byId(await d.keys.list(), ctx.params["id"], "key");
      const update = parseBody(ctx, KeyUpdate);
      checkConfig(s().storage_configs, update.storage_config, "storage_config");
      checkConfig(s().webhook_configs, update.webhook_config, "webhook_config");
      const settings = d.store.keySettings(key.id);
      if (update.storage_config !== undefined) settings.storage_config = update.storage_config;
      if (update.webhook_config !== undefined) settings.webhook_config = update.webhook_config;
      d.store.changed();
      return ok(renderKey(key, settings));
    }),
    route("POST", "/keys", () => {
      throw new RicloudError(403, "missing-scope", "keys are created with `icloud2mqtt api-key create`");
    }),
    route("POST", "/keys/:id/rotate", () => {
      throw new RicloudError(403, "missing-scope", "rotate a key with `icloud2mqtt api-key create` and `revoke`");
    }),

    route("POST", "/users", (ctx) => {
      const { identifier } = parseBody(ctx, UserCreate);
      // ricloud-py's samples "get or create" a user by posting it every time.
      const existing = s().users.find((user) => user.identifier === identifier);
      if (existing !== undefined) return ok(render(existing));
      const user: User = {
        id: d.store.nextId("user"),
        resource: "user",
        organisation: ORGANISATION_ID,
        key: ctx.key.id,
        identifier,
        state: "active",
        date_created: isoNow(),
      };
      s().users.push(user);
      d.store.changed();
      return created(render(user));
    }),
    route("GET", "/users", (ctx) =>
      ok(paginate(filtered(s().users, ctx.query, ["identifier", "state", "key"]), ctx.query, ctx.path, render)),
    ),
    route("GET", "/users/:id", (ctx) => ok(render(byId(s().users, ctx.params["id"], "user")))),
    route("POST", "/users/:id", (ctx) => {
      const user = byId(s().users, ctx.params["id"], "user");
      const update = parseBody(ctx, UserUpdate);
      if (update.identifier !== undefined && s().users.some((u) => u.identifier === update.identifier && u !== user))
        throw invalidParameter("identifier", "another user has this identifier");
      if (update.identifier !== undefined) user.identifier = update.identifier;
      if (update.state !== undefined) user.state = update.state;
      d.store.changed();
      return ok(render(user));
    }),

    route("POST", "/sources", (ctx) => {
      const before = s().sources.length;
      const source = sourceFor(d, parseBody(ctx, SourceRef), "source");
      return before === s().sources.length ? ok(render(source)) : created(render(source));
    }),
    route("GET", "/sources", (ctx) =>
      ok(
        paginate(
          filtered(s().sources, ctx.query, ["user", "identifier", "type", "state"]),
          ctx.query,
          ctx.path,
          render,
        ),
      ),
    ),
    route("GET", "/sources/:id", (ctx) => ok(render(byId(s().sources, ctx.params["id"], "source")))),
    route("POST", "/sources/:id", (ctx) => {
      const source = byId(s().sources, ctx.params["id"], "source");
      const update = parseBody(ctx, SourceUpdate);
      if (update.state === "deactivated") source.state = "deactivated";
      else if (update.state === "active" && source.state === "deactivated") source.state = "unvalidated";
      d.store.changed();
      return ok(render(source));
    }),
  ];
}
