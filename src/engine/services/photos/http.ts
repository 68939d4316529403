import type { HttpServiceView } from "../../../http/service-view.ts";
import type { PhotosSnapshot } from "./events.ts";

const THUMBNAIL = "latest-thumbnail.jpg";

/**
 * Photos in the HTTP API and on the web page: the newest photo (its thumbnail as a file), the count,
 * and the progress of a whole-library download (`backfill`, null when there was none).
 */
export const photosHttp: HttpServiceView<PhotosSnapshot> = {
  view: (snapshot) => ({
    latest: snapshot.latest?.asset ?? null,
    has_thumbnail: snapshot.latest?.thumbnail != null,
    count: snapshot.count,
    backfill: snapshot.backfill,
  }),
  card: ({ latest, count, backfill }) => ({
    facts: [
      { label: "Photos", value: count, format: "number" },
      { label: "Latest", value: latest?.asset.filename ?? null },
      { label: "Taken", value: latest?.asset.date_created ?? null, format: "time" },
      ...(backfill === null || backfill.state === "done"
        ? []
        : [{ label: "Library download", value: backfill.percent, format: "percent" as const }]),
    ],
    ...(latest?.thumbnail
      ? { image: { file: THUMBNAIL, alt: `Latest photo: ${latest.asset.filename}`, version: latest.asset.id } }
      : {}),
    empty: "No photo yet.",
  }),
  files: {
    [THUMBNAIL]: (snapshot) =>
      snapshot.latest?.thumbnail ? { contentType: "image/jpeg", body: snapshot.latest.thumbnail } : null,
  },
};
