import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { Routes, Services } from "./context.ts";
import { resolveAccount } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { json } from "./respond.ts";
import type { HttpServiceView } from "./service-view.ts";

interface LoadedView {
  key: string;
  title: string;
  dataType: string;
  view: HttpServiceView<unknown>;
}

/**
 * What each service shows (`GET /api/services?account=`): per enabled service its status and its
 * view (devices, the newest photo, the newest call, …), and its files at
 * `GET /api/services/<service>/<name>?account=` (e.g. the newest photo's thumbnail). The views come
 * from the services' `http.ts`; this file names no data type.
 */
export async function serviceRoutes(s: Services): Promise<Routes> {
  const views: LoadedView[] = await Promise.all(
    GENERIC_SERVICES.map(async (service) => ({
      key: service.key,
      title: service.title,
      dataType: service.dataType,
      view: (await service.views.http()) as HttpServiceView<unknown>,
    })),
  );
  const routes: Routes = {
    "/api/services": {
      GET: ({ query }) => {
        const account = resolveAccount(s.api, query);
        const snapshot = s.api.snapshot(account) as unknown as Record<string, unknown>;
        const enabled = s.api.accounts().find((a) => a.id === account)?.services as Record<string, boolean> | undefined;
        const out: Record<string, unknown> = {};
        for (const { key, title, dataType, view } of views) {
          if (enabled?.[key] !== true) continue;
          const status = (snapshot["state"] as { services: Record<string, unknown> }).services[key];
          out[key] = { title, data_type: dataType, status, ...(view.view(snapshot[key]) as object) };
        }
        return json(200, { account, services: out });
      },
    },
  };
  for (const { key, view } of views) {
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
  }
  return routes;
}
