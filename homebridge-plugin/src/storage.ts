import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The plugin's files, all inside Homebridge's storage folder (`<storage>/icloud2mqtt/`, mode 0700):
 * the engine's state folder (sessions 0600, engine state), the control file through which the
 * settings UI reaches the running plugin, and passwords the user chose to keep.
 */

export const STORAGE_FOLDER = "icloud2mqtt";

/** `<storage>/icloud2mqtt`. */
export function pluginDir(storagePath: string): string {
  return join(storagePath, STORAGE_FOLDER);
}

/** Creates the folder (0700) if needed and returns it. */
export async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

/** The running plugin's loopback API: port and token (`control.json`, 0600). */
export function controlFile(dir: string): string {
  return join(dir, "control.json");
}

/** A password the user asked the settings UI to keep (`passwords/<account>`, 0600). */
export function passwordFile(dir: string, account: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(account)) throw new Error(`invalid account id ${JSON.stringify(account)}`);
  return join(dir, "passwords", account);
}

/** Writes a file atomically with mode 0600 (its folder is created 0700). */
export async function writeSecret(path: string, text: string): Promise<void> {
  await ensureDir(join(path, ".."));
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** A file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
