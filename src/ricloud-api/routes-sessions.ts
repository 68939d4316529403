import { z } from "zod";
import type { ApiDeps } from "./context.ts";
import { fromZod, invalidParameter } from "./errors.ts";
import { paginate } from "./pagination.ts";
import type { Source } from "./records.ts";
import { render } from "./resources.ts";
import { byId, created, filtered, ok, parseBody, type Route, route } from "./router.ts";
import { SourceRef, sourceFor } from "./routes-account.ts";

const secret = z.string().min(1).max(1024);
/** Codes may come as numbers from scripts (`"code": 123456` loses a leading zero, so strings are preferred). */
const code = z
  .union([z.string().min(1).max(20), z.number().int().nonnegative()])
  .transform((value) => (typeof value === "number" ? String(value) : value.trim()));

/** `source` is the source's id, or `{user, type, identifier}` to find or create it. */
const SourceField = z.union([z.string().min(1).max(100), z.number().int(), z.record(z.string(), z.unknown())]);
const SessionCreate = z.object({
  source: SourceField,
  payload: z.looseObject({
    password: secret,
    code: code.optional(),
    choice: z.string().min(1).max(200).optional(),
  }),
});

/** Sessions: create (an attempt), list, retrieve, delete. */
export function sessionRoutes(d: ApiDeps): Route[] {
  const s = () => d.store.state;
  return [
    route("POST", "/sessions", async (ctx) => {
      const input = parseBody(ctx, SessionCreate);
      let source: Source;
      if (typeof input.source === "object") {
        const ref = SourceRef.safeParse(input.source);
        if (!ref.success) throw fromZod(ref.error, "source");
        source = sourceFor(d, ref.data);
      } else {
        const found = s().sources.find((candidate) => candidate.id === String(input.source));
        if (found === undefined) throw invalidParameter("source", "no such source");
        source = found;
      }
      if (source.state === "deactivated") throw invalidParameter("source", "the source is deactivated");
      const session = d.sessions.create(ctx.key.id, source, input.payload);
      await d.sessions.settled(session, ctx.awaitMs);
      return created(render(session));
    }),
    route("GET", "/sessions", (ctx) =>
      ok(paginate(filtered(s().sessions, ctx.query, ["source", "user", "state"]), ctx.query, ctx.path, render)),
    ),
    route("GET", "/sessions/:id", (ctx) => ok(render(byId(s().sessions, ctx.params["id"], "session")))),
    route("DELETE", "/sessions/:id", (ctx) => {
      const session = byId(s().sessions, ctx.params["id"], "session");
      d.sessions.end(session);
      return ok(render(session));
    }),
  ];
}
