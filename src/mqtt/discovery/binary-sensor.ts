import { componentBase, type EntityNaming } from "./common.ts";
import type { BinarySensorComponent, EntityContext } from "./types.ts";

/**
 * A binary sensor from a JSON state topic. `valueTemplate` must render `ON`, `OFF` or `None`
 * (unknown) unless `payloads` says otherwise.
 */
export function binarySensor(
  ctx: EntityContext,
  naming: EntityNaming,
  deviceClass: BinarySensorComponent["device_class"],
  stateTopic: string,
  valueTemplate: string,
  payloads: { on: string; off: string } = { on: "ON", off: "OFF" },
  attributes?: { topic: string; template?: string },
): BinarySensorComponent {
  return {
    ...componentBase("binary_sensor", ctx, naming),
    state_topic: stateTopic,
    value_template: valueTemplate,
    payload_on: payloads.on,
    payload_off: payloads.off,
    ...(deviceClass === undefined ? {} : { device_class: deviceClass }),
    ...(attributes === undefined ? {} : { json_attributes_topic: attributes.topic }),
    ...(attributes?.template === undefined ? {} : { json_attributes_template: attributes.template }),
  };
}

/** Template rendering a JSON boolean field as ON/OFF, `None` when it is null or missing. */
export function booleanTemplate(field: string): string {
  return `{% if value_json.${field} is none %}None{% elif value_json.${field} %}ON{% else %}OFF{% endif %}`;
}
