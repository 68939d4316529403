import type { CallkitCall } from "../../../icloud/calls/types.ts";
import { eventEntity } from "../../../mqtt/discovery/event.ts";
import { timestampSensor } from "../../../mqtt/discovery/sensor.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { CallsEvents, CallsSnapshot } from "./events.ts";
import { type CallsRemoteState, callsRemote } from "./mqtt-remote.ts";

export const CALL_EVENT_TYPES = ["incoming", "outgoing", "missed"];

const lastTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "calls", "last");
const eventTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "calls", "event");
const recentTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "calls", "recent");

function last(ctx: MqttViewContext, account: string, call: CallkitCall): MqttOutput {
  return { kind: "state", topic: lastTopic(ctx, account), payload: JSON.stringify(call), retain: true };
}

/**
 * Calls on MQTT: `calls/last` (retained, the newest `callkit.call`), `calls/recent` (retained, the latest
 * ones, newest first) and `calls/event` (each new call).
 */
export const callsMqtt: MqttServiceView<CallsSnapshot, CallsEvents, CallsRemoteState> = {
  snapshot: (ctx, account, snapshot) => (snapshot.last === null ? [] : [last(ctx, account, snapshot.last)]),
  events: {
    "call.new": (ctx, { account, call }) => [
      last(ctx, account, call),
      {
        kind: "state",
        topic: eventTopic(ctx, account),
        // `missed` for missed calls, else the call's direction.
        payload: JSON.stringify({ event_type: call.missed ? "missed" : call.direction, ...call }),
        retain: false,
      },
    ],
    "call.last": (ctx, { account, call }) => [last(ctx, account, call)],
  },
  // The recent list changes with each run, which ends with an account state.
  accountState: (ctx, state, snapshot) => [
    { kind: "state", topic: recentTopic(ctx, state.account), payload: JSON.stringify(snapshot.recent), retain: true },
  ],
  accountComponents: (ctx, account, { data }) => {
    const topic = lastTopic(ctx, account.id);
    return {
      last_call: timestampSensor(
        data,
        { key: "last_call", name: "Last call", icon: "mdi:phone-log" },
        topic,
        "{{ value_json.date }}",
        topic,
      ),
      call: eventEntity(data, { key: "call", name: "Call" }, eventTopic(ctx, account.id), CALL_EVENT_TYPES),
    };
  },
  // A disabled service or a removed account leaves no phone number or contact name on the broker.
  ownedStateFilters: ({ topics }) => [topics.anyAccount("calls", "last"), topics.anyAccount("calls", "recent")],
  remote: callsRemote,
};
