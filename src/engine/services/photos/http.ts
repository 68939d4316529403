import type { HttpServiceView } from "../../../http/service-view.ts";
import type { PhotosSnapshot } from "./events.ts";

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
  files: {
    "latest-thumbnail.jpg": (snapshot) =>
      snapshot.latest?.thumbnail ? { contentType: "image/jpeg", body: snapshot.latest.thumbnail } : null,
  },
};
