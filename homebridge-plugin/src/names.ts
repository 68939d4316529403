/** The names Homebridge registers the platform under (`config.json` `"platform": "iCloud2MQTT"`). */
export const PLUGIN_NAME = "homebridge-icloud2mqtt";
export const PLATFORM_NAME = "iCloud2MQTT";

/**
 * HAP-NodeJS 2's naming rule (Homebridge 2 warns, and the Home app may refuse the accessory): a name
 * starts and ends with a letter or digit, with letters, digits, spaces, apostrophes and common
 * punctuation (`& ! . _ : ; ( ) / , -`) in between.
 */
export const HAP_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}\p{Zs}\u2019'&!._:;()/,-]*[\p{L}\p{N}]$/u;

const MAX_NAME_LENGTH = 64;

/**
 * A name HomeKit accepts: brackets and characters outside the rule (emoji, `@`, `+`, quotes, ...)
 * become spaces, spaces are collapsed, and leading or trailing punctuation is dropped
 * ("AirTag (Keys)" → "AirTag Keys", "🔑 Keys!" → "Keys"). A name with fewer than two characters
 * left gets `fallback` ("" → "Device", "X" → "X device").
 */
export function cleanName(name: string, fallback = "Device"): string {
  const cleaned = name
    .normalize("NFC")
    .replace(/[^\p{L}\p{N}\p{Zs}\u2019'&!._:;/,-]/gu, " ")
    .replace(/\p{Zs}+/gu, " ")
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "")
    .slice(0, MAX_NAME_LENGTH)
    .replace(/[^\p{L}\p{N}]+$/u, "");
  if (HAP_NAME_PATTERN.test(cleaned)) return cleaned;
  return cleaned === "" ? fallback : `${cleaned} ${fallback.toLowerCase()}`;
}
