import { z } from "zod";
import type { ApiDeps } from "./context.ts";
import { paginate } from "./pagination.ts";
import { PollPayloadSchema } from "./records.ts";
import { render } from "./resources.ts";
import { byId, created, filtered, ok, parseBody, type Route, route } from "./router.ts";
import { activeSession } from "./routes-polls.ts";
import { DEFAULT_SUBSCRIPTION_SCHEDULE } from "./subscriptions.ts";

const idField = z.union([z.string().min(1).max(100), z.number().int()]).transform(String);
const SubscriptionCreate = z.object({
  session: idField,
  source: idField.optional(),
  poll_payload: PollPayloadSchema,
  schedule: z.union([z.string().min(1).max(100), z.number().positive()]).default(DEFAULT_SUBSCRIPTION_SCHEDULE),
});

/** Events and subscriptions. */
export function eventRoutes(d: ApiDeps): Route[] {
  const s = () => d.store.state;
  return [
    route("GET", "/events", (ctx) =>
      ok(paginate(filtered(s().events, ctx.query, ["type", "action", "state"]), ctx.query, ctx.path, render)),
    ),
    route("GET", "/events/:id", (ctx) => ok(render(byId(s().events, ctx.params["id"], "event")))),

    route("POST", "/subscriptions", (ctx) => {
      const input = parseBody(ctx, SubscriptionCreate);
      const session = activeSession(d, input.session, input.source);
      const source = byId(s().sources, session.source, "source");
      return created(render(d.subscriptions.create(ctx.key.id, session, source, input.poll_payload, input.schedule)));
    }),
    route("GET", "/subscriptions", (ctx) =>
      ok(paginate(filtered(s().subscriptions, ctx.query, ["session", "source", "state"]), ctx.query, ctx.path, render)),
    ),
    route("GET", "/subscriptions/:id", (ctx) => ok(render(byId(s().subscriptions, ctx.params["id"], "subscription")))),
    route("DELETE", "/subscriptions/:id", (ctx) => {
      const subscription = byId(s().subscriptions, ctx.params["id"], "subscription");
      d.subscriptions.end(subscription);
      return ok(render(subscription));
    }),
  ];
}
