import { z } from "zod";
import { FILE_ROLES, type IcplAsset, IcplAssetSchema } from "../../../icloud/photos/types.ts";
import { parseJsonPayload } from "../../../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext, RemoteEvent } from "../../../mqtt/service-view.ts";
import type { photosCommands } from "./commands.ts";
import type { MirrorProgress, PhotosEvents, PhotosSnapshot } from "./events.ts";

/** What a remote engine knows of an account's photos. */
export interface PhotosRemoteState {
  latest: { asset: IcplAsset; json: string } | null;
  /** The newest thumbnail received, and the newest photo's id when it came (null when unknown). */
  thumbnail: { jpeg: Buffer; of: string | null } | null;
  count: number | null;
  /** The last whole-library download progress (`photos/backfill`), as JSON too so repeats are no change. */
  backfill: { progress: MirrorProgress; json: string } | null;
}

const ProgressSchema = z.object({
  state: z.enum(["running", "done", "stopped"]),
  items_done: z.number().int().nonnegative(),
  items_total: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  failed: z.number().int().nonnegative(),
  eta_seconds: z.number().nonnegative().nullable(),
  percent: z.number().min(0).max(100),
}) satisfies z.ZodType<MirrorProgress>;

type Results = {
  [K in keyof typeof photosCommands]: z.ZodType<Awaited<ReturnType<(typeof photosCommands)[K]["run"]>>>;
};

/** The results of the photos commands, parsed when a remote engine reads them back. */
const results: Results = {
  list_photos: z.object({ assets: z.array(IcplAssetSchema) }),
  photo_file: z.object({
    id: z.string(),
    path: z.string(),
    size: z.number().int().nonnegative(),
    extension: z.string(),
    data_type: z.enum(["image", "video", "audio", "file"]),
    role: z.enum(FILE_ROLES),
  }),
};

const EventSchema = z.object({ event_type: z.literal("new_photo") }).loose();
const CountSchema = z.string().regex(/^\d+$/, "not a whole number").transform(Number);

const topic = (ctx: MqttViewContext, account: string, ...segments: string[]) =>
  ctx.topics.account(account, "photos", ...segments);

function isJpeg(bytes: Buffer): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The thumbnail when it is known to show `asset`. */
function thumbnailOf(state: PhotosRemoteState, asset: IcplAsset): Buffer | null {
  return state.thumbnail !== null && state.thumbnail.of === asset.id ? state.thumbnail.jpeg : null;
}

/**
 * Photos read back from MQTT. The bridge sends a new photo as `photos/latest`, then its thumbnail
 * (when it has one), then `photos/event`: so `photo.latest` comes first without the thumbnail and again
 * with it once the bytes arrive, and `photo.new` carries the thumbnail when it came before the event.
 */
export const photosRemote: MqttRemoteView<PhotosSnapshot, PhotosEvents, PhotosRemoteState> = {
  filters: (ctx, account) => [
    topic(ctx, account, "latest"),
    topic(ctx, account, "latest", "thumbnail"),
    topic(ctx, account, "event"),
    topic(ctx, account, "count"),
    topic(ctx, account, "backfill"),
  ],
  initial: () => ({ latest: null, thumbnail: null, count: null, backfill: null }),
  snapshot: (state) => ({
    latest: state.latest === null ? null : { asset: state.latest.asset, thumbnail: state.thumbnail?.jpeg ?? null },
    count: state.count,
    backfill: state.backfill?.progress ?? null,
  }),
  receive: (ctx, account, state, { topic: received, payload, retained }) => {
    const events: RemoteEvent<PhotosEvents>[] = [];
    switch (received) {
      case topic(ctx, account, "latest"): {
        if (payload.length === 0) {
          state.latest = null;
          break;
        }
        const parsed = parseJsonPayload(payload, IcplAssetSchema);
        if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
        const asset = parsed.data;
        const json = JSON.stringify(asset);
        if (state.latest?.json === json) break;
        const changed = state.latest?.asset.id !== asset.id;
        state.latest = { asset, json };
        if (changed)
          events.push({ event: "photo.latest", payload: { account, asset, thumbnail: thumbnailOf(state, asset) } });
        break;
      }
      case topic(ctx, account, "latest", "thumbnail"): {
        if (payload.length === 0) {
          state.thumbnail = null;
          break;
        }
        if (!isJpeg(payload)) return { kind: "invalid", reason: "not a JPEG image" };
        if (state.thumbnail?.jpeg.equals(payload)) break;
        const asset = state.latest?.asset ?? null;
        state.thumbnail = { jpeg: Buffer.from(payload), of: asset?.id ?? null };
        if (asset !== null)
          events.push({ event: "photo.latest", payload: { account, asset, thumbnail: state.thumbnail.jpeg } });
        break;
      }
      case topic(ctx, account, "event"): {
        // Events are never retained by the bridge; a retained one is someone else's leftover.
        if (retained || payload.length === 0) break;
        const head = parseJsonPayload(payload, EventSchema);
        if (!head.ok) return { kind: "invalid", reason: head.reason };
        const { event_type: _type, ...rest } = head.data;
        const parsed = IcplAssetSchema.safeParse(rest);
        if (!parsed.success) return { kind: "invalid", reason: "not an icpl.asset" };
        const asset = parsed.data;
        events.push({ event: "photo.new", payload: { account, asset, thumbnail: thumbnailOf(state, asset) } });
        break;
      }
      case topic(ctx, account, "count"): {
        if (payload.length === 0) {
          state.count = null;
          break;
        }
        const parsed = CountSchema.safeParse(payload.toString("utf8").trim());
        if (!parsed.success) return { kind: "invalid", reason: "not a whole number" };
        if (parsed.data === state.count) break;
        state.count = parsed.data;
        events.push({ event: "photo.count", payload: { account, count: parsed.data } });
        break;
      }
      case topic(ctx, account, "backfill"): {
        if (payload.length === 0) {
          state.backfill = null;
          break;
        }
        const parsed = parseJsonPayload(payload, ProgressSchema);
        if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
        const json = JSON.stringify(parsed.data);
        if (state.backfill?.json === json) break;
        state.backfill = { progress: parsed.data, json };
        events.push({ event: "photo.backfill", payload: { account, progress: parsed.data } });
        break;
      }
      default:
        return { kind: "ignored" };
    }
    return { kind: "update", events };
  },
  results,
};
