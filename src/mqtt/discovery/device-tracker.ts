import { componentBase, type EntityNaming } from "./common.ts";
import type { DeviceTrackerComponent, EntityContext } from "./types.ts";

/**
 * Turns the fmip.device JSON into device_tracker attributes: latitude/longitude/gps_accuracy when
 * the device has a location (HA places the tracker from these), plus battery, freshness
 * (`location_stale`, `last_located`), the Family Sharing member it belongs to (`owner`, null for the
 * account holder's own devices) and, with a home configured, `home_distance` in metres.
 */
export const TRACKER_ATTRIBUTES_TEMPLATE = [
  "{% set d = value_json %}{% set l = d.location %}",
  '{% set a = {"battery_level": d.battery_percent, "charging": d.charging, "online": d.online,',
  ' "low_power_mode": d.low_power_mode, "location_stale": d.location_stale, "last_located": d.last_located,',
  ' "model": d.model_name, "owner": d.owner.name if d.owner else none} %}',
  "{% if d.home_distance is defined %}{% set a = dict(a, home_distance=d.home_distance) %}{% endif %}",
  "{% if l %}{% set a = dict(a, latitude=l.latitude, longitude=l.longitude, gps_accuracy=l.horizontal_accuracy, altitude=l.altitude, vertical_accuracy=l.vertical_accuracy, positioning_type=l.positioning_type) %}{% endif %}",
  "{{ a | tojson }}",
].join("");

/** A GPS device tracker fed only through `json_attributes_topic` (no state_topic). */
export function deviceTracker(ctx: EntityContext, naming: EntityNaming, deviceTopic: string): DeviceTrackerComponent {
  return {
    ...componentBase("device_tracker", ctx, naming, true),
    source_type: "gps",
    json_attributes_topic: deviceTopic,
    json_attributes_template: TRACKER_ATTRIBUTES_TEMPLATE,
  };
}
