import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The default state directory: `$ICLOUD2MQTT_STATE_DIR`, else `~/.icloud2mqtt`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["ICLOUD2MQTT_STATE_DIR"];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return resolve(fromEnv);
  return join(homedir(), ".icloud2mqtt");
}
