import type { IcplAsset } from "../../../icloud/photos/types.ts";
import { eventEntity } from "../../../mqtt/discovery/event.ts";
import { jpegImage } from "../../../mqtt/discovery/image.ts";
import { sensor } from "../../../mqtt/discovery/sensor.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { PhotosEvents, PhotosSnapshot } from "./events.ts";
import { type PhotosRemoteState, photosRemote } from "./mqtt-remote.ts";

export const PHOTO_EVENT_TYPES = ["new_photo"];

const latestTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "latest");
const thumbnailTopic = (ctx: MqttViewContext, account: string) =>
  ctx.topics.account(account, "photos", "latest", "thumbnail");
const eventTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "event");
const countTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "photos", "count");

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
 * `photos/event` (each new photo, not retained) and `photos/count`.
 */
export const photosMqtt: MqttServiceView<PhotosSnapshot, PhotosEvents, PhotosRemoteState> = {
  snapshot: (ctx, account, snapshot) => [
    ...(snapshot.latest === null ? [] : latest(ctx, account, snapshot.latest.asset, snapshot.latest.thumbnail)),
    ...(snapshot.count === null ? [] : [count(ctx, account, snapshot.count)]),
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
  }),
  // A disabled service or a removed account leaves no photo (or thumbnail) on the broker.
  ownedStateFilters: ({ topics }) => [
    topics.anyAccount("photos", "latest"),
    topics.anyAccount("photos", "latest", "thumbnail"),
    topics.anyAccount("photos", "count"),
  ],
  remote: photosRemote,
};
