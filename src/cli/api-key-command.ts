import { resolve } from "node:path";
import type { Command } from "commander";
import type { KeyStore } from "../ricloud-api/key-store.ts";

interface KeyOptions {
  config?: string;
  stateDir?: string;
}

/** The state folder: `--state-dir`, else the configuration's `state_dir` (`--config` or $ICLOUD2MQTT_CONFIG), else the default. */
async function stateDirOf(options: KeyOptions): Promise<string> {
  if (options.stateDir !== undefined) return resolve(options.stateDir);
  if (options.config !== undefined || process.env["ICLOUD2MQTT_CONFIG"]) {
    const { loadConfig } = await import("../config/load.ts");
    return (await loadConfig(options.config === undefined ? {} : { file: options.config })).state_dir;
  }
  return (await import("../icloud/state-dir.ts")).defaultStateDir();
}

/** The key store of the state folder (loaded when an `api-key` command runs). */
async function keyStore(options: KeyOptions): Promise<KeyStore> {
  const [{ KeyStore }, stateDir] = await Promise.all([import("../ricloud-api/key-store.ts"), stateDirOf(options)]);
  return new KeyStore(stateDir);
}

function location(command: Command): Command {
  return command
    .option("-c, --config <file>", "configuration file whose state_dir holds the keys; also $ICLOUD2MQTT_CONFIG")
    .option("--state-dir <dir>", "state folder (default $ICLOUD2MQTT_STATE_DIR or ~/.icloud2mqtt)");
}

/**
 * `icloud2mqtt api-key create|list|revoke`: keys of the ricloud-compatible API, kept hashed in
 * `<state_dir>/ricloud/keys.json`. A running bridge notices new and revoked keys at once.
 */
export function registerApiKeyCommand(program: Command): void {
  const keys = program.command("api-key").description("Manage keys of the ricloud-compatible API");
  location(keys.command("create"))
    .description("Create a key and print it (shown only this once)")
    .option("--name <name>", "what the key is for", "")
    .action(async (options: KeyOptions & { name: string }) => {
      const store = await keyStore(options);
      const { key, token } = await store.create(options.name);
      process.stderr.write(`Created API key ${key.id}${key.name ? ` (${key.name})` : ""}; it is shown only once:\n`);
      process.stdout.write(`${token}\n`);
    });
  location(keys.command("list"))
    .description("List keys (id, prefix, name, created, revoked)")
    .action(async (options: KeyOptions) => {
      const store = await keyStore(options);
      const list = await store.list();
      if (list.length === 0) process.stdout.write(`no keys in ${store.file}\n`);
      for (const key of list) {
        const state = key.date_revoked === null ? "active" : `revoked ${key.date_revoked}`;
        process.stdout.write(`${key.id}\t${key.prefix}…\t${key.name || "-"}\t${key.date_created}\t${state}\n`);
      }
    });
  location(keys.command("revoke"))
    .description("Revoke a key by its id or prefix")
    .argument("<id>", "the key's id or prefix (from `api-key list`)")
    .action(async (id: string, options: KeyOptions) => {
      const store = await keyStore(options);
      const key = await store.revoke(id);
      process.stdout.write(`revoked key ${key.id} (${key.prefix}…)\n`);
    });
}
