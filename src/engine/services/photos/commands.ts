import { z } from "zod";
import { accountField } from "../../command-fields.ts";
import type { ServiceCommand } from "../service-module.ts";
import type { PhotosRuntime } from "./runtime.ts";

const isoDate = z.iso.datetime({ offset: true });
const listPhotos = z.strictObject({
  account: accountField,
  since: isoDate.optional().describe("Only items added to the library after this instant (ricloud `since`)"),
  until: isoDate.optional().describe("Only items added before this instant (ricloud `until`)"),
  limit: z.number().int().min(1).max(10_000).default(1000).describe("At most this many items, newest added first"),
});
const recordName = z.string().min(1).max(256);
const photoFile = z.strictObject({
  account: accountField,
  file: z
    .string()
    .regex(/^icpl:\/\/[\x21-\x7e]{1,300}$/)
    .describe("The file's id from `files[].id` (icpl://…)"),
  asset: recordName.describe("The asset's `id`"),
  master_id: recordName.describe("The asset's `master_id`"),
  zone: recordName.describe("The asset's `zone`"),
});

/** The photo library's commands (read-only; they change nothing the polling job remembers). */
export const photosCommands = {
  /** Items of the library (`icpl.asset`), newest added first, hidden ones left out. */
  list_photos: {
    schema: listPhotos,
    run: async (runtime, { since, until, limit }) => ({
      assets: await runtime.list({
        limit,
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
      }),
    }),
  } satisfies ServiceCommand<typeof listPhotos, PhotosRuntime, unknown>,
  /**
   * Fetches one file of an asset (its original, Live Photo video, thumbnail, …) into the engine's file
   * cache and answers where it is: `{id, path, size, extension, data_type, role}`; removed after an hour.
   */
  photo_file: {
    schema: photoFile,
    run: (runtime, { file, asset, master_id, zone }) => runtime.file({ file, asset, master_id, zone }),
  } satisfies ServiceCommand<typeof photoFile, PhotosRuntime, unknown>,
};
