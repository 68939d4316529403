import { componentBase, type EntityNaming } from "./common.ts";
import type { ButtonComponent, EntityContext } from "./types.ts";

/** A button that publishes a fixed JSON request to `<base>/bridge/request/<command>`. */
export function requestButton(
  ctx: EntityContext,
  naming: EntityNaming,
  commandTopic: string,
  request: Record<string, string>,
  deviceClass?: ButtonComponent["device_class"],
): ButtonComponent {
  return {
    ...componentBase("button", ctx, naming),
    command_topic: commandTopic,
    payload_press: JSON.stringify(request),
    retain: false,
    ...(deviceClass === undefined ? {} : { device_class: deviceClass }),
  };
}
