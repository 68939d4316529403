import { z } from "zod";
import type { CommandName } from "../engine/commands.ts";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { Routes, Services } from "./context.ts";
import { resolveAccount } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { json, readBody } from "./respond.ts";
import type { HttpServiceView } from "./service-view.ts";

interface LoadedView {
  key: string;
  title: string;
  dataType: string;
  commands: string[];
  view: HttpServiceView<unknown>;
}

const CommandBodySchema = z.record(z.string(), z.unknown());

/**
 * What each service shows (`GET /api/services?account=`): per enabled service its status, its view
 * (devices, the newest photo, the recent calls, …) and its dashboard `card`; its files at
 * `GET /api/services/<service>/<name>?account=` (e.g. the newest photo's thumbnail); and its own
 * commands at `POST /api/services/<service>/<command>?account=` with the command's input as a JSON
 * object (what the cards' buttons send). The views come from the services' `http.ts`; this file names
 * no data type.
 */
export async function serviceRoutes(s: Services): Promise<Routes> {
  const views: LoadedView[] = await Promise.all(
    GENERIC_SERVICES.map(async (service) => ({
      key: service.key,
      title: service.title,
      dataType: service.dataType,
      commands: Object.keys(service.commands),
      view: (await service.views.http()) as HttpServiceView<unknown>,
    })),
  );
  const enabledFor = (account: string) =>
    s.api.accounts().find((a) => a.id === account)?.services as Record<string, boolean> | undefined;
  const routes: Routes = {
    "/api/services": {
      GET: ({ query }) => {
        const account = resolveAccount(s.api, query);
        const snapshot = s.api.snapshot(account) as unknown as Record<string, unknown>;
        const enabled = enabledFor(account);
        const out: Record<string, unknown> = {};
        for (const { key, title, dataType, view } of views) {
          if (enabled?.[key] !== true) continue;
          const status = (snapshot["state"] as { services: Record<string, unknown> }).services[key];
          out[key] = {
            title,
            data_type: dataType,
            status,
            ...(view.view(snapshot[key]) as object),
            card: view.card(snapshot[key]),
          };
        }
        return json(200, { account, services: out });
      },
    },
  };
  for (const { key, view, commands } of views) {
    for (const [name, file] of Object.entries(view.files)) {
      routes[`/api/services/${key}/${name}`] = {
        GET: ({ query }) => {
          const account = resolveAccount(s.api, query);
          const snapshot = s.api.snapshot(account) as unknown as Record<string, unknown>;
          const found = file(snapshot[key]);
          if (found === null) throw new HttpError(404, "Not available");
          return { status: 200, body: found.body, type: found.contentType, headers: { "cache-control": "no-store" } };
        },
      };
    }
    for (const command of commands) {
      routes[`/api/services/${key}/${command}`] = {
        POST: async ({ req, query }) => {
          const account = resolveAccount(s.api, query);
          if (enabledFor(account)?.[key] !== true) throw new HttpError(412, `${key} is disabled for this account`);
          const text = (await readBody(req)).toString("utf8");
          let body: unknown = {};
          try {
            body = text.trim() === "" ? {} : JSON.parse(text);
          } catch {
            throw new HttpError(400, "The body must be a JSON object");
          }
          const input = CommandBodySchema.safeParse(body);
          if (!input.success || Array.isArray(body)) throw new HttpError(400, "The body must be a JSON object");
          // The engine validates the input with the command's schema (INVALID_INPUT → 400).
          const result = await s.api.execute(command as CommandName, { ...input.data, account } as never);
          s.logger.info(`${command} requested over HTTP`, { account });
          return json(200, { message: `${command} done`, result });
        },
      };
    }
  }
  return routes;
}
