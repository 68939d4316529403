import { componentBase, type EntityNaming } from "./common.ts";
import type { EntityContext, SensorComponent } from "./types.ts";

type SensorOptions = Omit<SensorComponent, keyof ReturnType<typeof componentBase>>;

/** Any MQTT sensor; the helpers below fix the device-class specific keys. */
export function sensor(ctx: EntityContext, naming: EntityNaming, options: SensorOptions): SensorComponent {
  return { ...componentBase("sensor", ctx, naming), ...options };
}

/** Battery percentage (device_class battery, %, measurement). */
export function batterySensor(
  ctx: EntityContext,
  naming: EntityNaming,
  stateTopic: string,
  valueTemplate: string,
): SensorComponent {
  return sensor(ctx, naming, {
    state_topic: stateTopic,
    value_template: valueTemplate,
    device_class: "battery",
    unit_of_measurement: "%",
    state_class: "measurement",
  });
}

/** An ISO 8601 timestamp (no unit, no state_class). */
export function timestampSensor(
  ctx: EntityContext,
  naming: EntityNaming,
  stateTopic: string,
  valueTemplate: string,
  jsonAttributesTopic?: string,
): SensorComponent {
  return sensor(ctx, naming, {
    state_topic: stateTopic,
    value_template: valueTemplate,
    device_class: "timestamp",
    ...(jsonAttributesTopic === undefined ? {} : { json_attributes_topic: jsonAttributesTopic }),
  });
}

/** A text state out of a fixed list (device_class enum). */
export function enumSensor(
  ctx: EntityContext,
  naming: EntityNaming,
  stateTopic: string,
  valueTemplate: string,
  options: string[],
): SensorComponent {
  return sensor(ctx, naming, {
    state_topic: stateTopic,
    value_template: valueTemplate,
    device_class: "enum",
    options,
  });
}
