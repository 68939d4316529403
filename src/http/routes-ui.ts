import { z } from "zod";
import { logoutCookie } from "./auth.ts";
import type { Handler, RouteContext, Routes, Services } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { contentSecurityPolicy, type Reply, readBody, redirect } from "./respond.ts";
import { escapeAttribute } from "./static-ui.ts";

const HTML = "text/html; charset=utf-8";
const LoginSchema = z.object({ token: z.string().min(1).max(1024) });

/** Paths anyone may load, so the login page renders and installs. */
export const PUBLIC_PATHS = new Set([
  "/login",
  "/api/health",
  "/style.css",
  "/manifest.webmanifest",
  "/icon.svg",
  "/icon-192.png",
]);

/** The pages (state, MFA, log, login) and the static assets. */
export function uiRoutes(s: Services): Routes {
  const page =
    (name: string): Handler =>
    ({ baseHref }) => ({ status: 200, body: s.ui.page(name, baseHref), type: HTML });
  // The dashboard names its map tiles in meta tags; only its own page may load images from their origin.
  const map = s.map;
  const tileOrigin = map === null ? null : new URL(map.tiles.replace(/\{[xyz]\}/g, "0")).origin;
  const dashboard: Handler = ({ baseHref }): Reply => ({
    status: 200,
    type: HTML,
    body: s.ui.page("state.html", baseHref, (html) =>
      map === null
        ? html
        : html
            .replace(
              '<meta name="map-tiles" content="">',
              `<meta name="map-tiles" content="${escapeAttribute(map.tiles)}">`,
            )
            .replace(
              '<meta name="map-attribution" content="">',
              `<meta name="map-attribution" content="${escapeAttribute(map.attribution)}">`,
            ),
    ),
    headers: tileOrigin === null ? {} : { "content-security-policy": contentSecurityPolicy([tileOrigin]) },
  });
  const loginPage = (ctx: RouteContext, failed: boolean): Reply => ({
    status: failed ? 401 : 200,
    type: HTML,
    body: s.ui.page("login.html", ctx.baseHref, (html) => (failed ? html.replace(" hidden data-error", "") : html)),
  });

  const routes: Routes = {
    "/": { GET: dashboard },
    "/state": { GET: dashboard },
    "/mfa": { GET: page("mfa.html") },
    "/submit-mfa": { GET: page("mfa.html") },
    "/request-mfa": { GET: page("mfa.html") },
    "/log": { GET: page("log.html") },
    "/login": {
      GET: (ctx) => (s.auth ? loginPage(ctx, false) : redirect(ctx.baseHref)),
      POST: async (ctx) => {
        if (!s.auth) return redirect(ctx.baseHref);
        // Failed logins are limited per client address, so nobody else's wrong tokens lock the
        // owner out; while an address is limited every attempt from it waits (the right token
        // too), and those attempts are not counted, so the wait never outlasts the wrong ones'.
        const client = ctx.req.socket.remoteAddress ?? "unknown";
        const wait = s.loginLimiter.wait(client);
        if (wait > 0) throw new HttpError(429, "Too many login attempts", { "retry-after": String(wait) });
        const form = LoginSchema.safeParse(
          Object.fromEntries(new URLSearchParams((await readBody(ctx.req)).toString("utf8"))),
        );
        if (!form.success || !s.auth.checkToken(form.data.token)) {
          s.loginLimiter.hit(client);
          s.logger.warn("web UI login failed");
          return loginPage(ctx, true);
        }
        s.loginLimiter.reset(client);
        return {
          ...redirect(ctx.baseHref),
          headers: { location: ctx.baseHref, "set-cookie": s.auth.loginCookie(ctx.baseHref, ctx.secure) },
        };
      },
    },
    "/logout": {
      POST: ({ baseHref }) => ({
        ...redirect(`${baseHref}login`),
        headers: { location: `${baseHref}login`, "set-cookie": logoutCookie(baseHref) },
      }),
    },
  };
  for (const name of s.vendor.names()) {
    routes[`/vendor/${name}`] = {
      GET: () => {
        const file = s.vendor.get(name);
        if (!file) throw new HttpError(404, "Not found");
        return { status: 200, body: file.body, type: file.type, headers: { "cache-control": "max-age=86400" } };
      },
    };
  }
  for (const name of s.ui.assetNames()) {
    routes[`/${name}`] = {
      GET: () => {
        const file = s.ui.asset(name);
        if (!file) throw new HttpError(404, "Not found");
        return { status: 200, body: file.body, type: file.type, headers: { "cache-control": "no-cache" } };
      },
    };
  }
  return routes;
}
