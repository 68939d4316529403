import type { FindMyScenarioInput } from "./scenario.ts";

const HOME = { lat: 51.5007, lon: -0.1246 };
const OFFICE = { lat: 51.5155, lon: -0.0922 };
const PARK = { lat: 51.5073, lon: -0.1657 };

/** The household used when the scenario's `findmy` section is empty. */
export function defaultFindMyScenario(firstName: string): FindMyScenarioInput {
  const home = { latitude: HOME.lat, longitude: HOME.lon, horizontal_accuracy: 12, position_type: "Wifi" };
  const commute = [HOME, OFFICE, PARK];
  return {
    devices: [
      {
        name: `${firstName}'s iPhone`,
        device_display_name: "iPhone 15 Pro",
        raw_device_model: "iPhone16,1",
        device_class: "iPhone",
        model_display_name: "iPhone",
        device_model: "iphone15pro-1-1-0",
        battery_level: 0.82,
        battery_drain_per_hour: 0.04,
        charging_pattern: { period: "24h", start: "22h", duration: "2h", rate_per_hour: 0.6 },
        location: { ...home, horizontal_accuracy: 4.7, position_type: "GPS", age: "2m" },
        route: commute,
        route_period: "30m",
        locate_delay: "10s",
      },
      {
        name: `${firstName}'s iPad`,
        device_display_name: "iPad Air (5th generation)",
        raw_device_model: "iPad13,16",
        device_class: "iPad",
        model_display_name: "iPad",
        battery_level: 0.55,
        battery_drain_per_hour: 0.01,
        location: { ...home, age: "20m" },
        locate_delay: "8s",
      },
      {
        name: `${firstName}'s MacBook Pro`,
        device_display_name: 'MacBook Pro 14"',
        raw_device_model: "Mac15,3",
        device_class: "MacBookPro",
        model_display_name: "MacBook Pro",
        battery_level: 0.91,
        charging_pattern: { period: "24h", start: "0h", duration: "4h", rate_per_hour: 0.8 },
        location: { ...home, age: "5m" },
        passcode_length: 0,
      },
      {
        name: `${firstName}'s Apple Watch`,
        device_display_name: "Apple Watch Series 9",
        raw_device_model: "Watch7,3",
        device_class: "Watch",
        model_display_name: "Apple Watch",
        battery_level: 0.64,
        battery_drain_per_hour: 0.05,
        location: { ...home, horizontal_accuracy: 30, age: "2m" },
        route: commute,
        route_period: "30m",
        locate_delay: "15s",
        lost_mode_capable: false,
      },
      {
        name: `${firstName}'s AirPods Pro`,
        device_display_name: "AirPods Pro (2nd generation)",
        raw_device_model: "AirPodsPro1,2",
        device_class: "Accessory",
        model_display_name: "Accessory",
        battery_level: null,
        location: null,
        location_capable: false,
        lost_mode_capable: false,
        passcode_length: 0,
      },
      {
        name: `${firstName}'s old iPhone`,
        device_display_name: "iPhone 8",
        raw_device_model: "iPhone10,1",
        device_class: "iPhone",
        model_display_name: "iPhone",
        battery_level: 0.12,
        battery_drain_per_hour: 0,
        online: 201,
        location: { latitude: 51.4613, longitude: -0.3037, horizontal_accuracy: 65, position_type: "Wifi", age: "3d" },
      },
      {
        name: "John's iPhone",
        device_display_name: "iPhone 14",
        raw_device_model: "iPhone14,7",
        device_class: "iPhone",
        model_display_name: "iPhone",
        owner: "20000000002",
        battery_level: 0.47,
        battery_drain_per_hour: 0.03,
        location: { latitude: OFFICE.lat, longitude: OFFICE.lon, horizontal_accuracy: 8, age: "4m" },
        route: [OFFICE, PARK],
        route_period: "1h",
      },
    ],
    family: [
      {
        prs_id: "20000000002",
        first_name: "John",
        last_name: "Appleseed",
        apple_id: "john.appleseed@example.com",
        loading_refreshes: 1,
      },
    ],
  };
}
