import { COMMAND_SCHEMAS, type CommandName, EngineError } from "icloud2mqtt/engine";
import { z } from "zod";
import type { NodeMessage } from "./red.ts";

/** The commands the action node runs. */
export const ACTIONS = ["locate", "play_sound", "send_message", "lost_mode", "sync", "reauthenticate"] as const;
export type Action = (typeof ACTIONS)[number];

const ActionSchema = z.enum(ACTIONS);

/** The node's own fields (what the editor saved); empty boxes are not set. */
export interface ActionFields {
  device: string;
  text: string;
  subject: string;
  sound: boolean;
  phone_number: string;
  passcode: string;
}

export interface ActionRequest {
  action: Action;
  /** The command's input without `account` (the node's account fills it in). */
  input: Record<string, unknown>;
}

/** The fields a command's schema accepts (its strict object shape), `account` aside. */
function fieldsOf(action: Action): string[] {
  const schema = COMMAND_SCHEMAS[action as CommandName] as unknown as z.ZodObject;
  return Object.keys(schema.shape).filter((key) => key !== "account");
}

function invalid(message: string): EngineError {
  return new EngineError("INVALID_INPUT", message);
}

/**
 * The command an input message asks for. The action is the node's, or with "from msg" `msg.action`
 * (or `msg.topic`). Fields come from the node, then from `msg.payload` when it is an object (its
 * keys win; unknown keys are refused by the command's schema) or a string (the text of
 * `send_message` / `lost_mode`). Lost mode locks a device: only a node that allows it may run it.
 * Validated with the engine's command schema; a problem is an `INVALID_INPUT` EngineError.
 */
export function actionRequest(
  nodeAction: Action | "msg",
  fields: ActionFields,
  allowLostMode: boolean,
  msg: NodeMessage,
): ActionRequest {
  const requested = nodeAction === "msg" ? (msg["action"] ?? msg.topic) : nodeAction;
  const parsed = ActionSchema.safeParse(requested);
  if (!parsed.success) {
    throw invalid(`unknown action ${JSON.stringify(requested)}: use one of ${ACTIONS.join(", ")}`);
  }
  const action = parsed.data;
  if (action === "lost_mode" && !allowLostMode) {
    throw invalid("lost mode is not allowed by this node: tick “Allow lost mode” in its settings");
  }
  const allowed = new Set(fieldsOf(action));
  const input: Record<string, unknown> = {};
  const own: Record<string, unknown> = {
    device: fields.device,
    text: fields.text,
    subject: fields.subject,
    phone_number: fields.phone_number,
    passcode: fields.passcode,
  };
  for (const [key, value] of Object.entries(own)) if (allowed.has(key) && value !== "") input[key] = value;
  if (allowed.has("sound") && fields.sound) input["sound"] = true;
  const payload = msg.payload;
  if (typeof payload === "object" && payload !== null && !Array.isArray(payload) && !Buffer.isBuffer(payload)) {
    for (const [key, value] of Object.entries(payload)) if (key !== "account") input[key] = value;
  } else if (typeof payload === "string" && payload.trim() !== "" && allowed.has("text")) {
    input["text"] = payload;
  }
  const checked = COMMAND_SCHEMAS[action].safeParse(input);
  if (!checked.success) {
    const problem = checked.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    throw invalid(`${action}: ${problem}`);
  }
  return { action, input };
}
