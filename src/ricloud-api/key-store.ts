import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { EngineError } from "../errors.ts";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-file.ts";

/**
 * API keys of the ricloud-compatible API: `<state_dir>/ricloud/keys.json` (0600 in a 0700 folder),
 * written by `icloud2mqtt api-key create|revoke` and read by the running API, which notices changes.
 * A key is `ric_` plus 32 random bytes (base64url), shown once; only its SHA-256 is stored (a key
 * this random needs no slow hash) with its first characters for recognising it in `api-key list`.
 */

export const KEY_PREFIX = "ric_";
const TOKEN_PATTERN = /^ric_[A-Za-z0-9_-]{43}$/;

const KeyRecordSchema = z.object({
  id: z.string().regex(/^\d{1,9}$/),
  name: z.string().max(100),
  /** `ric_` and the next 6 characters. */
  prefix: z.string().max(20),
  /** SHA-256 of the whole key, hex. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  date_created: z.string(),
  date_revoked: z.string().nullable(),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

const KeyFileSchema = z.object({ version: z.literal(1), keys: z.array(KeyRecordSchema) });

export function ricloudDir(stateDir: string): string {
  return join(stateDir, "ricloud");
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

export class KeyStore {
  readonly #file: string;
  #keys: KeyRecord[] = [];
  #stamp = "";

  constructor(stateDir: string) {
    this.#file = join(ricloudDir(stateDir), "keys.json");
  }

  get file(): string {
    return this.#file;
  }

  /** Every key, revoked ones included, oldest first. */
  async list(): Promise<KeyRecord[]> {
    await this.#refresh();
    return this.#keys.map((key) => ({ ...key }));
  }

  /** Creates a key; the returned token is the only copy. */
  async create(name: string): Promise<{ key: KeyRecord; token: string }> {
    await this.#refresh(true);
    const token = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
    const next = this.#keys.reduce((max, key) => Math.max(max, Number(key.id)), 0) + 1;
    const key: KeyRecord = {
      id: String(next),
      name: name.slice(0, 100),
      prefix: token.slice(0, KEY_PREFIX.length + 6),
      hash: digest(token).toString("hex"),
      date_created: new Date().toISOString(),
      date_revoked: null,
    };
    this.#keys.push(key);
    await this.#write();
    return { key: { ...key }, token };
  }

  /** Revokes a key by id or by its shown prefix; NOT_FOUND when none matches. */
  async revoke(idOrPrefix: string): Promise<KeyRecord> {
    await this.#refresh(true);
    const key = this.#keys.find((candidate) => candidate.id === idOrPrefix || candidate.prefix === idOrPrefix);
    if (key === undefined) throw new EngineError("NOT_FOUND", `no API key ${JSON.stringify(idOrPrefix)}`);
    key.date_revoked ??= new Date().toISOString();
    await this.#write();
    return { ...key };
  }

  /**
   * The active key a token belongs to, or null. Compares the token's digest with every key's in
   * constant time (no early exit), after re-reading the file if it changed since the last look.
   */
  async verify(token: string): Promise<KeyRecord | null> {
    await this.#refresh();
    const candidate = digest(TOKEN_PATTERN.test(token) ? token : `invalid:${token}`);
    let found: KeyRecord | null = null;
    for (const key of this.#keys) {
      const match = timingSafeEqual(candidate, Buffer.from(key.hash, "hex"));
      if (match && key.date_revoked === null) found = key;
    }
    return found === null ? null : { ...found };
  }

  async #refresh(force = false): Promise<void> {
    let stamp: string;
    try {
      const info = await stat(this.#file);
      stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      stamp = "none";
    }
    if (!force && stamp === this.#stamp) return;
    const text = await readFileIfExists(this.#file);
    if (text === undefined) {
      this.#keys = [];
    } else {
      const parsed = KeyFileSchema.safeParse(safeJson(text));
      if (!parsed.success) throw new EngineError("STORE_FAILED", `${this.#file} is not a valid key file`);
      this.#keys = parsed.data.keys;
    }
    this.#stamp = stamp;
  }

  async #write(): Promise<void> {
    await writeFileAtomic(this.#file, `${JSON.stringify({ version: 1, keys: this.#keys }, null, 2)}\n`);
    this.#stamp = "";
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
