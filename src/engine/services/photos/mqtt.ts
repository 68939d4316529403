import type { IcplAsset } from "../../../icloud/photos/types.ts";
import { eventEntity } from "../../../mqtt/discovery/event.ts";
import { jpegImage } from "../../../mqtt/discovery/image.ts";
import { sensor } from "../../../mqtt/discovery/sensor.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { MirrorProgress, PhotosEvents, PhotosSnapshot } from "./events.ts";
import { type PhotosRemoteState, photosRemote } from "./mqtt-remote.ts";

export const PHOTO_EVENT_TYPES = ["new_photo"];

const latestTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "latest");
const thumbnailTopic = (ctx: MqttViewContext, account: string) =>
  ctx.topics.account(account, "photos", "latest", "thumbnail");
const eventTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "event");
const countTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "count");
const backfillTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "backfill");

function backfill(ctx: MqttViewContext, account: string, progress: MirrorProgress): MqttOutput {
  return { kind: "state", topic: backfillTopic(ctx, account), payload: JSON.stringify(progress), retain: true };
}

function latest(ctx: MqttViewContext, account: string, asset: IcplAsset, thumbnail: Buffer | null): MqttOutput[] {
  const out: MqttOutput[] = [
    { kind: "state", topic: latestTopic(ctx, account), payload: JSON.stringify(asset), retain: true },
  ];
  if (thumbnail !== null && thumbnail.length > 0) {
    out.push({ kind: "state", topic: thumbnailTopic(ctx, account), payload: thumbnail, retain: true });
  }
  return out;
}

function count(ctx: MqttViewContext, account: string, value: number): MqttOutput {
  return { kind: "state", topic: countTopic(ctx, account), payload: String(value), retain: true };
}

/**
 * Photos on MQTT: `photos/latest` (retained `icpl.asset`) with `photos/latest/thumbnail` (JPEG bytes),
 * `photos/event` (each new photo, not retained), `photos/count`, and `photos/backfill` (retained
 * progress of a whole-library download: `{state, items_done, items_total, files, bytes, failed,
 * eta_seconds, percent}`, about once a second while it runs).
 */
export const photosMqtt: MqttServiceView<PhotosSnapshot, PhotosEvents, PhotosRemoteState> = {
  snapshot: (ctx, account, snapshot) => [
    ...(snapshot.latest === null ? [] : latest(ctx, account, snapshot.latest.asset, snapshot.latest.thumbnail)),
    ...(snapshot.count === null ? [] : [count(ctx, account, snapshot.count)]),
    ...(snapshot.backfill === null ? [] : [backfill(ctx, account, snapshot.backfill)]),
  ],
  events: {
    "photo.new": (ctx, { account, asset, thumbnail }) => [
      ...latest(ctx, account, asset, thumbnail),
      {
        kind: "state",
        topic: eventTopic(ctx, account),
        payload: JSON.stringify({ event_type: "new_photo", ...asset }),
        retain: false,
      },
    ],
    "photo.latest": (ctx, { account, asset, thumbnail }) => latest(ctx, account, asset, thumbnail),
    "photo.count": (ctx, { account, count: value }) => [count(ctx, account, value)],
    "photo.backfill": (ctx, { account, progress }) => [backfill(ctx, account, progress)],
  },
  accountComponents: (ctx, account, { data }) => ({
    latest_photo: jpegImage(
      data,
      { key: "latest_photo", name: "Latest photo" },
      thumbnailTopic(ctx, account.id),
      latestTopic(ctx, account.id),
    ),
    new_photo: eventEntity(
      data,
      { key: "new_photo", name: "New photo" },
      eventTopic(ctx, account.id),
      PHOTO_EVENT_TYPES,
    ),
    photo_count: sensor(
      data,
      { key: "photo_count", name: "Photo count", icon: "mdi:image-multiple" },
      { state_topic: countTopic(ctx, account.id), state_class: "measurement" },
    ),
    photo_library_download: sensor(
      data,
      { key: "photo_library_download", name: "Photo library download", icon: "mdi:folder-download" },
      {
        state_topic: backfillTopic(ctx, account.id),
        value_template: "{{ value_json.percent }}",
        unit_of_measurement: "%",
        json_attributes_topic: backfillTopic(ctx, account.id),
      },
    ),
  }),
  // A disabled service or a removed account leaves no photo (or thumbnail) on the broker.
  ownedStateFilters: ({ topics }) => [
    topics.anyAccount("photos", "latest"),
    topics.anyAccount("photos", "latest", "thumbnail"),
    topics.anyAccount("photos", "count"),
    topics.anyAccount("photos", "backfill"),
  ],
  remote: photosRemote,
};
