import { EngineError, type FmipDevice } from "icloud2mqtt/engine";
import { z } from "zod";
import type { AccountHandle, AccountView } from "../account-handle.ts";
import type { NodeStatus } from "../account-status.ts";
import { type DeviceFilter, DeviceWatch, deviceStatus, matchesDevice } from "../device-watch.ts";
import { toNodeError } from "../node-errors.ts";
import type { NodeMessage, NodeRedApi, RedNode } from "../red.ts";
import { isReady, useAccount } from "./consumer.ts";

const DeviceNodeSchema = z.object({
  account: z.string().optional(),
  device: z.string().default(""),
  filter: z.enum(["change", "home", "battery"]).default("change"),
  battery: z.coerce.number().min(1).max(100).default(20),
});

/**
 * `icloud-device`: Find My devices (`fmip.device`) of one account, one device or all of them, sent
 * when their data changes (optionally only on home/away changes or a battery dropping below N %).
 * Any input message ("get") sends the devices' current data.
 */
export function register(RED: NodeRedApi): void {
  function IcloudDeviceNode(this: RedNode, definition: Record<string, unknown>): void {
    RED.nodes.createNode(this, definition);
    const parsed = DeviceNodeSchema.safeParse(definition);
    if (!parsed.success) {
      this.status({ fill: "red", shape: "ring", text: "invalid settings" });
      this.error(`invalid settings: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
      return;
    }
    const config = parsed.data;
    const selector = config.device.trim();
    const filter: DeviceFilter =
      config.filter === "battery" ? { kind: "battery", below: config.battery } : { kind: config.filter };
    const watch = new DeviceWatch(selector, filter);
    // Set right below; the status function runs first inside `useAccount`.
    let handle: AccountHandle | null = null;

    const devices = (view: AccountView): FmipDevice[] => {
      if (view.state === null || handle === null) return [];
      try {
        const { api, account } = handle.ready();
        return api.snapshot(account).findmy.devices.filter((device) => matchesDevice(selector, device));
      } catch {
        return [];
      }
    };
    const statusFor = (view: AccountView): NodeStatus => {
      if (!isReady(view)) return view.status;
      const known = devices(view);
      if (selector === "") return { fill: "green", shape: "dot", text: `${known.length} devices` };
      const device = known[0];
      return device === undefined
        ? { fill: "yellow", shape: "ring", text: `no device "${selector}"`.slice(0, 40) }
        : deviceStatus(device, Date.now());
    };
    const account = useAccount(RED, this, config.account, statusFor);
    if (account === null) return;
    handle = account;
    this.status(statusFor(account.view()));

    watch.seed(devices(account.view()));
    const output = (device: FmipDevice, base: NodeMessage = {}): NodeMessage => ({
      ...base,
      topic: device.name,
      account: account.account,
      payload: device,
    });
    account.bus.on(this, "device.updated", ({ device }) => {
      if (!watch.update(device)) {
        this.status(statusFor(account.view()));
        return;
      }
      this.send(output(device));
      this.status(statusFor(account.view()));
    });
    account.bus.on(this, "device.removed", ({ deviceId }) => watch.forget(deviceId));
    // "3 min ago" grows old by itself.
    const tick = setInterval(() => this.status(statusFor(account.view())), 60_000);
    tick.unref();
    this.on("close", (_removed, done) => {
      clearInterval(tick);
      done();
    });

    this.on("input", (msg, send, done) => {
      try {
        const { api, account: id } = account.ready();
        const found = api.snapshot(id).findmy.devices.filter((device) => matchesDevice(selector, device));
        if (selector !== "" && found.length === 0) {
          done(
            toNodeError(new EngineError("NOT_FOUND", `no device ${JSON.stringify(selector)} on this account (yet)`)),
          );
          return;
        }
        // One message per device, all on the one output.
        send([found.map((device) => output(device, RED.util.cloneMessage(msg)))]);
        done();
      } catch (error) {
        done(toNodeError(error));
      }
    });
  }
  RED.nodes.registerType("icloud-device", IcloudDeviceNode);
}
