import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { EngineError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";

const webserviceSchema = z.object({ url: z.string(), status: z.string().optional() }).loose();

/** Everything the client persists for one account between runs. Secrets: never log any of it. */
export const storedSessionSchema = z
  .object({
    version: z.literal(1),
    username: z.string(),
    client_id: z.string(),
    session_token: z.string().optional(),
    trust_token: z.string().optional(),
    scnt: z.string().optional(),
    session_id: z.string().optional(),
    account_country: z.string().optional(),
    auth_attributes: z.string().optional(),
    dsid: z.string().optional(),
    hsa_version: z.number().optional(),
    webservices: z.record(z.string(), webserviceSchema).optional(),
    /** tough-cookie's serialised jar, including the "expired" Apple cookies kept as session cookies. */
    cookies: z.unknown().optional(),
    srp_sign_ins: z.number().int().nonnegative().default(0),
    /** Set after invalid-credentials / account-locked: no automatic SRP until credentials change or a forced sign-in. */
    blocked: z
      .object({
        error: z.enum(["invalid-credentials", "account-locked"]),
        since: z.string(),
        /** scrypt fingerprint of the refused password, to notice a changed password. */
        password_check: z.object({ salt: z.string(), hash: z.string() }).optional(),
      })
      .optional(),
    /**
     * Who wrote this file last (a fresh id per write) and whether that writer's session was active:
     * processes sharing the state folder notice a session another one stored and try it first.
     */
    revision: z
      .object({
        id: z.string(),
        at: z.string(),
        pid: z.number().int().optional(),
        active: z.boolean(),
      })
      .loose()
      .optional()
      .catch(undefined),
  })
  .loose();

export type StoredSession = z.infer<typeof storedSessionSchema>;

/**
 * One JSON file per account under a state directory (0700), written atomically
 * (temp file + fsync + rename) with mode 0600.
 */
export class SessionStore {
  readonly dir: string;
  readonly #log: Logger;

  constructor(dir: string, logger: Logger = silentLogger) {
    this.dir = dir;
    this.#log = logger;
  }

  /** The session file of an account: a hash of the lower-cased username, never outside `dir`. */
  pathFor(username: string): string {
    return join(this.dir, `${sessionFileName(username)}.session.json`);
  }

  /** The account's sign-in lock (see account-lock.ts), next to its session file. */
  lockPathFor(username: string): string {
    return join(this.dir, `${sessionFileName(username)}.lock`);
  }

  /** The stored session; `quiet`: no warning for a corrupt file (frequent checks by other processes' sessions). */
  async load(username: string, options: { quiet?: boolean } = {}): Promise<StoredSession | undefined> {
    const log = options.quiet === true ? silentLogger : this.#log;
    const path = this.pathFor(username);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new EngineError("STORE_FAILED", "cannot read the session file", { cause: error, info: { username } });
    }
    await chmod(path, 0o600).catch(() => undefined);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      log.warn("session file is corrupt (not JSON); starting without a stored session", { username });
      return undefined;
    }
    const parsed = storedSessionSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn("session file is invalid; starting without a stored session", { username });
      return undefined;
    }
    if (parsed.data.username.toLowerCase() !== username.toLowerCase()) {
      log.warn("session file belongs to another account; ignoring it", { username });
      return undefined;
    }
    return parsed.data;
  }

  async save(session: StoredSession): Promise<void> {
    const path = this.pathFor(session.username);
    const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700); // also when the folder already existed with looser rights
      const handle = await open(tmp, "wx", 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(session, null, 2)}\n`, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
      await chmod(path, 0o600);
      await syncDir(this.dir);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new EngineError("STORE_FAILED", "cannot write the session file", {
        cause: error,
        info: { username: session.username },
      });
    }
  }

  async remove(username: string): Promise<void> {
    await rm(this.pathFor(username), { force: true });
  }
}

export function sessionFileName(username: string): string {
  return createHash("sha256").update(username.trim().toLowerCase(), "utf8").digest("hex").slice(0, 32);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}
