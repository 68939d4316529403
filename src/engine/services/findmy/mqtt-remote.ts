import { z } from "zod";
import { type FmipDevice, FmipDeviceSchema } from "../../../icloud/findmy/types.ts";
import { parseJsonPayload, topicLevelAfter } from "../../../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext, RemoteEvent } from "../../../mqtt/service-view.ts";
import type { findMyCommands } from "./commands.ts";
import type { FindMyEvents, FindMySnapshot } from "./events.ts";
import { deviceSegment } from "./mqtt-discovery.ts";

/** What a remote engine knows of an account's devices: by topic level (friendly name), with the JSON they were compared by. */
export type FindMyRemoteState = Map<string, { device: FmipDevice; json: string }>;

type Results = {
  [K in keyof typeof findMyCommands]: z.ZodType<Awaited<ReturnType<(typeof findMyCommands)[K]["run"]>>>;
};

const deviceResult = z.object({ device: z.string().min(1) });
const results: Results = {
  locate: z.object({ devices: z.array(FmipDeviceSchema) }),
  play_sound: deviceResult,
  send_message: deviceResult,
  lost_mode: deviceResult,
  list_devices: z.object({ devices: z.array(FmipDeviceSchema) }),
};

const devicesPrefix = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "devices");

/**
 * Find My read back from MQTT: each retained `devices/<device>` is a device (a changed payload is
 * `device.updated`); an empty retained payload removes it (`device.removed`).
 */
export const findMyRemote: MqttRemoteView<FindMySnapshot, FindMyEvents, FindMyRemoteState> = {
  filters: (ctx, account) => [`${devicesPrefix(ctx, account)}/+`],
  initial: () => new Map(),
  snapshot: (state) => ({ devices: [...state.values()].map(({ device }) => device) }),
  receive: (ctx, account, state, { topic, payload }) => {
    const key = topicLevelAfter(topic, devicesPrefix(ctx, account));
    if (key === undefined) return { kind: "ignored" };
    if (payload.length === 0) {
      const known = state.get(key);
      state.delete(key);
      const events: RemoteEvent<FindMyEvents>[] =
        known === undefined
          ? []
          : [
              {
                event: "device.removed",
                payload: { account, deviceId: known.device.id, slug: known.device.slug ?? null },
              },
            ];
      return { kind: "update", events };
    }
    const parsed = parseJsonPayload(payload, FmipDeviceSchema);
    if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
    const device = parsed.data;
    if (deviceSegment(device) !== key) return { kind: "invalid", reason: "the device does not match its topic" };
    const json = JSON.stringify(device);
    if (state.get(key)?.json === json) return { kind: "update", events: [] };
    state.set(key, { device, json });
    return { kind: "update", events: [{ event: "device.updated", payload: { account, device } }] };
  },
  results,
};
