import { z } from "zod";
import { ACTIONS, actionRequest } from "../action-input.ts";
import { toNodeError } from "../node-errors.ts";
import type { NodeRedApi, RedNode } from "../red.ts";
import { useAccount } from "./consumer.ts";

const text = z
  .union([z.string(), z.number()])
  .optional()
  .transform((value) => (value === undefined ? "" : String(value).trim()));
const flag = z
  .union([z.boolean(), z.enum(["true", "false"])])
  .optional()
  .transform((value) => value === true || value === "true");

const ActionNodeSchema = z.object({
  account: z.string().optional(),
  action: z.enum([...ACTIONS, "msg"]).default("play_sound"),
  device: text,
  text: text,
  subject: text,
  sound: flag,
  phoneNumber: text,
  passcode: text,
  allowLostMode: flag,
});

/**
 * `icloud-action`: runs a command on an input message — locate, play a sound, send a message, lost
 * mode (only when the node allows it), sync, re-authenticate. `msg.payload` is the command's result;
 * failures go to `done(err)` so Catch nodes see them (`msg.error.code` is the engine's code).
 */
export function register(RED: NodeRedApi): void {
  function IcloudActionNode(this: RedNode, definition: Record<string, unknown>): void {
    RED.nodes.createNode(this, definition);
    const parsed = ActionNodeSchema.safeParse(definition);
    if (!parsed.success) {
      this.status({ fill: "red", shape: "ring", text: "invalid settings" });
      return;
    }
    const config = parsed.data;
    const handle = useAccount(RED, this, config.account);
    this.on("input", (msg, send, done) => {
      if (handle === null) {
        done(new Error("no iCloud account chosen"));
        return;
      }
      let request: ReturnType<typeof actionRequest>;
      try {
        request = actionRequest(
          config.action,
          {
            device: config.device,
            text: config.text,
            subject: config.subject,
            sound: config.sound,
            phone_number: config.phoneNumber,
            passcode: config.passcode,
          },
          config.allowLostMode,
          msg,
        );
      } catch (error) {
        done(toNodeError(error));
        return;
      }
      handle.execute(request.action, request.input).then(
        (result) => {
          msg["action"] = request.action;
          msg.payload = result;
          send(msg);
          done();
        },
        (error: unknown) => done(toNodeError(error)),
      );
    });
  }
  RED.nodes.registerType("icloud-action", IcloudActionNode);
}
