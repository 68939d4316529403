import { componentBase, type EntityNaming } from "./common.ts";
import type { EntityContext, NotifyComponent } from "./types.ts";

/**
 * A notify entity (`notify.send_message`): the message becomes `field` of a fixed JSON request on
 * `commandTopic` (`<base>/bridge/request/<command>`), e.g. `{"account":"a","device":"d","text":"…"}`.
 */
export function requestNotify(
  ctx: EntityContext,
  naming: EntityNaming,
  commandTopic: string,
  request: Record<string, string>,
  field: string,
): NotifyComponent {
  const fixed = JSON.stringify(request).slice(0, -1);
  return {
    ...componentBase("notify", ctx, naming),
    command_topic: commandTopic,
    command_template: `${fixed},${JSON.stringify(field)}:{{ value | tojson }}}`,
    retain: false,
  };
}
