import type { Routes, Services } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { SubscriptionSchema } from "./push-store.ts";
import { json, message, readBody } from "./respond.ts";

const DISABLED = "Push notifications are disabled in the configuration";

/** `POST /api/subscribe` (201 / 400 like icloud-photos-sync) and `GET /api/vapid-public-key`. */
export function pushRoutes(s: Services): Routes {
  return {
    "/api/vapid-public-key": {
      GET: () => {
        if (!s.push) throw new HttpError(404, DISABLED);
        return json(200, { publicKey: s.push.publicKey });
      },
    },
    "/api/subscribe": {
      POST: async ({ req }) => {
        if (!s.push) throw new HttpError(404, DISABLED);
        const body = await readBody(req);
        let raw: unknown;
        try {
          raw = JSON.parse(body.toString("utf8"));
        } catch {
          raw = undefined;
        }
        const parsed = SubscriptionSchema.safeParse(raw);
        if (!parsed.success) throw new HttpError(400, "Unable to add push subscription");
        await s.push.subscribe(parsed.data);
        return message(201, "Push subscription added successfully");
      },
    },
  };
}
