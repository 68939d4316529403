import { z } from "zod";
import { IcplAssetSchema } from "../../../icloud/photos/types.ts";
import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";

const RefSchema = z.object({ asset: z.string().min(1), master_id: z.string().min(1), zone: z.string().min(1) });

/**
 * Photos in the ricloud-compatible API: `icpl.photos` results hold the library's items newest added
 * first as `icpl.asset` (the JSON MQTT publishes, `files[]` included), filtered by `since`/`until` on
 * `date_uploaded`; a `files` poll with their `icpl://` ids returns the files' bytes.
 */
export const photosRicloud: RicloudServiceView = {
  items: async (api, account, filters) =>
    (
      await api.execute("list_photos", {
        account,
        ...(filters.since === undefined ? {} : { since: filters.since }),
        ...(filters.until === undefined ? {} : { until: filters.until }),
      })
    ).assets,
  files: {
    scheme: "icpl",
    refs: (item) => {
      const asset = IcplAssetSchema.safeParse(item);
      if (!asset.success) return [];
      const { id, master_id, zone } = asset.data;
      return asset.data.files.map((file) => ({ id: file.id, ref: { asset: id, master_id, zone } }));
    },
    fetch: async (api, account, id, ref) => {
      const parsed = RefSchema.parse(ref);
      const file = await api.execute("photo_file", { account, file: id, ...parsed });
      return { path: file.path, size: file.size, extension: file.extension };
    },
  },
};
