import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The default state directory: `$ICLOUD2MQTT_STATE_DIR`, else `~/.icloud2mqtt`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["ICLOUD2MQTT_STATE_DIR"];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return resolve(fromEnv);
  return join(homedir(), ".icloud2mqtt");
}

/** Where session files live inside a state directory (the engine and `login` must agree). */
export function sessionsDir(stateDir: string): string {
  return join(stateDir, "sessions");
}
