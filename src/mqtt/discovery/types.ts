/** Home Assistant MQTT device-based discovery payloads, as this bridge sends them (full key names). */

export interface Availability {
  topic: string;
  value_template?: string;
}

export interface Origin {
  name: string;
  sw: string;
  url: string;
}

export interface DeviceBlock {
  identifiers: string[];
  name: string;
  manufacturer: string;
  model: string;
  sw_version?: string;
  via_device?: string;
}

export type EntityCategory = "config" | "diagnostic";

/** Options every component of this bridge carries. */
export interface ComponentBase {
  p: string;
  /** `null` takes the device's name; left out, Home Assistant names the entity after its device class (translated). */
  name?: string | null;
  unique_id: string;
  default_entity_id: string;
  /** Left out only for the bridge's own connection-state entity. */
  availability?: Availability[];
  availability_mode?: "all";
  entity_category?: EntityCategory;
  icon?: string;
  enabled_by_default?: boolean;
}

export interface DeviceTrackerComponent extends ComponentBase {
  p: "device_tracker";
  source_type: "gps";
  json_attributes_topic: string;
  json_attributes_template: string;
}

export interface SensorComponent extends ComponentBase {
  p: "sensor";
  state_topic: string;
  value_template?: string;
  device_class?: "battery" | "timestamp" | "enum" | "distance" | "duration";
  unit_of_measurement?: string;
  state_class?: "measurement" | "total";
  suggested_display_precision?: number;
  options?: string[];
  json_attributes_topic?: string;
  json_attributes_template?: string;
}

export interface BinarySensorComponent extends ComponentBase {
  p: "binary_sensor";
  state_topic: string;
  value_template: string;
  payload_on: string;
  payload_off: string;
  device_class?: "battery_charging" | "connectivity" | "presence" | "problem";
  json_attributes_topic?: string;
  json_attributes_template?: string;
}

export interface ButtonComponent extends ComponentBase {
  p: "button";
  command_topic: string;
  payload_press: string;
  retain: false;
  device_class?: "identify" | "restart" | "update";
}

export interface TextComponent extends ComponentBase {
  p: "text";
  command_topic: string;
  command_template: string;
  /** Keeps Home Assistant from taking what was typed as the entity's state (the recorder would keep it). */
  state_topic: string;
  retain: false;
  mode: "password" | "text";
  pattern: string;
  min: number;
  max: number;
}

export interface EventComponent extends ComponentBase {
  p: "event";
  state_topic: string;
  event_types: string[];
}

export interface ImageComponent extends ComponentBase {
  p: "image";
  image_topic: string;
  content_type: "image/jpeg";
  json_attributes_topic?: string;
}

export interface NotifyComponent extends ComponentBase {
  p: "notify";
  command_topic: string;
  command_template: string;
  retain: false;
}

export type Component =
  | DeviceTrackerComponent
  | SensorComponent
  | BinarySensorComponent
  | ButtonComponent
  | TextComponent
  | EventComponent
  | ImageComponent
  | NotifyComponent;

export interface DeviceDiscovery {
  device: DeviceBlock;
  origin: Origin;
  cmps: Record<string, Component>;
}

/** What a component builder needs to name and attach an entity. */
export interface EntityContext {
  /** unique_id prefix (the discovery node id). */
  uniquePrefix: string;
  /** Object-id prefix for `default_entity_id` (`janes_iphone`). */
  objectPrefix: string;
  availability: Availability[];
}
