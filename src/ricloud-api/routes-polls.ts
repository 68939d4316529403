import { z } from "zod";
import type { ApiDeps } from "./context.ts";
import { invalidParameter, notFound, RicloudError } from "./errors.ts";
import { paginate } from "./pagination.ts";
import type { Session } from "./records.ts";
import { PollPayloadSchema, type Result } from "./records.ts";
import { render } from "./resources.ts";
import {
  byId,
  created,
  filtered,
  ok,
  parseBody,
  type Reply,
  type RequestContext,
  type Route,
  route,
} from "./router.ts";
import { isoNow } from "./time.ts";

const idField = z.union([z.string().min(1).max(100), z.number().int()]).transform(String);
const PollCreate = z.object({
  session: idField,
  source: idField.optional(),
  subscription: idField.optional(),
  type: z.enum(["data", "info", "files"]).optional(),
  payload: PollPayloadSchema,
});

/** The session a poll or subscription targets: it must be active. */
export function activeSession(d: ApiDeps, id: string, sourceId: string | undefined): Session {
  const session = d.store.state.sessions.find((candidate) => candidate.id === id);
  if (session === undefined) throw invalidParameter("session", "no such session");
  if (session.state === "expired" || session.state === "failed")
    throw new RicloudError(400, "session-expired", `the session is ${session.state}; create a new one`, {
      session: session.state,
    });
  if (session.state !== "active") throw invalidParameter("session", "the session is not active yet");
  if (sourceId !== undefined && sourceId !== session.source)
    throw invalidParameter("source", "the session does not belong to this source");
  return session;
}

/** Polls, tasks and results. */
export function pollRoutes(d: ApiDeps): Route[] {
  const s = () => d.store.state;
  const limited = (ctx: RequestContext) => {
    const wait = d.pollLimiter.hit(ctx.key.id);
    if (wait > 0)
      throw new RicloudError(
        429,
        "limit-exceeded",
        `too many polls; try again in ${wait} seconds`,
        {},
        {
          "retry-after": String(wait),
        },
      );
  };
  const ack = (ctx: RequestContext): Reply | Promise<Reply> =>
    acknowledge(d, byId(s().results, ctx.params["id"], "result"));
  return [
    route("POST", "/polls", async (ctx) => {
      const input = parseBody(ctx, PollCreate);
      const session = activeSession(d, input.session, input.source);
      const source = byId(s().sources, session.source, "source");
      if (input.subscription !== undefined) byId(s().subscriptions, input.subscription, "subscription");
      limited(ctx);
      const poll = d.polls.create(ctx.key.id, session, source, input.payload, input.subscription ?? null);
      await d.polls.settled(poll, ctx.awaitMs);
      return created(d.polls.render(poll));
    }),
    route("GET", "/polls", (ctx) =>
      ok(
        paginate(
          filtered(s().polls, ctx.query, ["session", "source", "subscription", "state", "requestor", "type"]),
          ctx.query,
          ctx.path,
          (poll) => d.polls.render(poll),
        ),
      ),
    ),
    route("GET", "/polls/:id", (ctx) => ok(d.polls.render(byId(s().polls, ctx.params["id"], "poll")))),

    route("GET", "/tasks", (ctx) =>
      ok(
        paginate(
          filtered(s().tasks, ctx.query, ["poll", "session", "source", "state", "type", "target"]),
          ctx.query,
          ctx.path,
          render,
        ),
      ),
    ),
    route("GET", "/tasks/:id", (ctx) => ok(render(byId(s().tasks, ctx.params["id"], "task")))),

    route("GET", "/results", (ctx) => {
      // Consumed and expired results are listed only when asked for by state.
      const visible = ctx.query.has("state") ? s().results : s().results.filter((r) => r.state === "available");
      return ok(
        paginate(
          filtered(visible, ctx.query, ["poll", "task", "state", "identifier", "type"]),
          ctx.query,
          ctx.path,
          render,
        ),
      );
    }),
    route("GET", "/results/:id", (ctx) => ok(render(byId(s().results, ctx.params["id"], "result")))),
    // ricloud-py 3.1+ acknowledges with POST; ricloud's docs show GET.
    route("POST", "/results/:id/ack", ack),
    route("GET", "/results/:id/ack", ack),
    route("GET", "/results/:id/download", async (ctx) => {
      const result = byId(s().results, ctx.params["id"], "result");
      if (result.state !== "available") throw notFound("available result", result.id);
      const backend = d.storage.forResult(result._storage_config);
      if (backend === undefined) throw notFound("stored result", result.id);
      const body = await backend.read(result._object).catch(() => {
        throw notFound("stored result", result.id);
      });
      const type = result.type === "json" ? "application/json" : "application/octet-stream";
      return { status: 200, stream: { body, type, length: result.size } };
    }),
  ];
}

/** Marks a result consumed and removes its file from local storage. */
async function acknowledge(d: ApiDeps, result: Result): Promise<Reply> {
  if (result.state === "available") {
    result.state = "consumed";
    result.date_consumed = isoNow();
    const backend = d.storage.forResult(result._storage_config);
    await backend?.remove(result._object).catch(() => undefined);
    d.store.changed();
  }
  return ok(render(result));
}
