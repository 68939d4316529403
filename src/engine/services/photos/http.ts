import type { HttpServiceView } from "../../../http/service-view.ts";
import type { PhotosSnapshot } from "./events.ts";

const THUMBNAIL = "latest-thumbnail.jpg";

/** Photos in the HTTP API and on the web page: the newest photo (its thumbnail as a file) and the count. */
export const photosHttp: HttpServiceView<PhotosSnapshot> = {
  view: (snapshot) => ({
    latest: snapshot.latest?.asset ?? null,
    has_thumbnail: snapshot.latest?.thumbnail != null,
    count: snapshot.count,
  }),
  card: ({ latest, count }) => ({
    facts: [
      { label: "Photos", value: count, format: "number" },
      { label: "Latest", value: latest?.asset.filename ?? null },
      { label: "Taken", value: latest?.asset.date_created ?? null, format: "time" },
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
