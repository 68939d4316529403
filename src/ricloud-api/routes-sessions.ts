import { z } from "zod";
import type { ApiDeps } from "./context.ts";
import { invalidParameter } from "./errors.ts";
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

const SessionCreate = z.object({
  source: z.union([SourceRef, z.union([z.string().min(1).max(100), z.number().int()]).transform(String)]),
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
      if (typeof input.source === "string") {
        const found = s().sources.find((candidate) => candidate.id === input.source);
        if (found === undefined) throw invalidParameter("source", "no such source");
        source = found;
      } else {
        source = sourceFor(d, input.source);
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
