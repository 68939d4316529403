import { componentBase, type EntityNaming } from "./common.ts";
import type { EntityContext, EventComponent } from "./types.ts";

/** An event entity; the state topic carries `{"event_type": <one of eventTypes>, ...attributes}`. */
export function eventEntity(
  ctx: EntityContext,
  naming: EntityNaming,
  stateTopic: string,
  eventTypes: string[],
): EventComponent {
  return { ...componentBase("event", ctx, naming), state_topic: stateTopic, event_types: eventTypes };
}
