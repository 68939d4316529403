import { createRequire, Module } from "node:module";

/**
 * Imported for its effect, before mqtt.js's client (src/mqtt/mqtt-client.ts). mqtt.js's keep-alive
 * timer (`lib/get-timer.js`) requires `worker-timers` at load (with worker-timers-broker,
 * broker-factory, fast-unique-numbers and @babel/runtime: 30 files) for browser tabs, whose timers
 * are throttled; outside a browser it uses the native `setInterval` (`timerVariant` "auto"). Unless
 * something loaded it already, this puts the native timers in the module cache (`require.cache`,
 * documented as writable) under `worker-timers`' path, so mqtt.js loads no Worker machinery it
 * would not use; even `timerVariant: "worker"` then gets native timers. (The command's bundle,
 * scripts/bundle-command.ts, gives its copy of mqtt.js the native timers in place of the package.)
 */
const require = createRequire(import.meta.url);
const path = createRequire(require.resolve("mqtt/lib/get-timer")).resolve("worker-timers");
if (require.cache[path] === undefined) {
  const native = new Module(path);
  native.filename = path;
  native.loaded = true;
  native.exports = { setInterval, clearInterval };
  require.cache[path] = native;
}
