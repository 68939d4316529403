import { rm } from "node:fs/promises";
import {
  type AccountState,
  type CommandInput,
  Engine,
  EngineError,
  type Logger,
  silentLogger,
} from "icloud2mqtt/engine";
import { z } from "zod";
import { ControlClient } from "../control/control-client.ts";
import type { ControlAccount, ControlCommand, ControlState } from "../control/protocol.ts";
import { sessionFailure } from "../errors.ts";
import { ensureDir, passwordFile, pluginDir, writeSecret } from "../storage.ts";

/**
 * The settings UI's sign-in, as `icloud2mqtt login` does it: Apple ID and password, then the code
 * (resend to the devices, by SMS or voice, or the device choice of legacy two-step accounts), and the
 * session is stored in the plugin's storage folder so the plugin starts without a code.
 *
 * While the plugin runs, its accounts come from the plugin itself (its loopback API): state, trust
 * expiry, and a code it waits for goes to it. Otherwise (or when the plugin is not waiting) this
 * process signs in with an engine of its own on the same storage folder, whose sign-in lock keeps
 * the plugin and this process from ever signing in to one account at the same time. When that sign-in
 * is done the plugin (if it runs) is asked to sign in again, which takes the stored session without a
 * password or code.
 */

const AccountIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "invalid account id");

export const SignInRequestSchema = z.object({
  account: z.object({
    id: AccountIdSchema,
    username: z.string().trim().min(1, "enter the Apple ID"),
    region: z.enum(["international", "china"]).optional(),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .optional(),
  }),
  password: z.string().min(1, "enter the password"),
  remember: z.boolean().default(false),
});
export type SignInRequest = z.input<typeof SignInRequestSchema>;

export const CodeRequestSchema = z.object({ account: AccountIdSchema, code: z.string().trim() });
export const ResendRequestSchema = z.object({
  account: AccountIdSchema,
  method: z.enum(["device", "sms", "voice"]),
  phone_number_id: z.number().int().positive().optional(),
});
export const ChoiceRequestSchema = z.object({ account: AccountIdSchema, choice: z.string().min(1) });
export const AccountRequestSchema = z.object({ account: AccountIdSchema });

/** An account as the settings UI shows it (never a secret). */
export interface AccountView {
  id: string;
  username: string;
  /** Who signs in: the running plugin, or this settings process. */
  via: "plugin" | "settings";
  state: AccountState["state"];
  session: AccountState["session"];
  prev_error: AccountState["prevError"];
}

export interface StatusView {
  plugin: { running: false } | { running: true; mode: ControlState["mode"]; version: string };
  accounts: AccountView[];
}

/** How long a sign-in step may take here before the UI is answered with the state so far. */
const SETTLE_MS = 60_000;

interface Own {
  engine: Engine;
  account: string;
  password: string;
  remember: boolean;
}

export class SignInService {
  readonly #dir: string;
  readonly #log: Logger;
  #own: Own | undefined;
  /** Sign-ins this process completed (shown while the plugin does not run). */
  readonly #completed = new Map<string, AccountView>();

  constructor(storagePath: string, log: Logger = silentLogger) {
    this.#dir = pluginDir(storagePath);
    this.#log = log;
  }

  async status(): Promise<StatusView> {
    const plugin = await ControlClient.find(this.#dir);
    const accounts = plugin?.state.accounts.map((a) => view(a, "plugin")) ?? [];
    for (const done of this.#completed.values()) if (!accounts.some((a) => a.id === done.id)) accounts.push(done);
    const own = this.#own;
    if (own !== undefined) {
      const summary = own.engine.accounts()[0];
      const mine = summary && { id: summary.id, username: summary.username, state: own.engine.snapshot().state };
      if (mine)
        accounts.splice(0, accounts.length, ...accounts.filter((a) => a.id !== mine.id), view(mine, "settings"));
    }
    return {
      plugin:
        plugin === null
          ? { running: false }
          : { running: true, mode: plugin.state.mode, version: plugin.state.version },
      accounts,
    };
  }

  async signIn(input: unknown): Promise<AccountView> {
    const request = SignInRequestSchema.parse(input);
    const { account } = request;
    const plugin = await ControlClient.find(this.#dir);
    if (plugin?.state.mode === "mqtt")
      throw new EngineError(
        "INVALID_STATE",
        "In connected mode the icloud2mqtt bridge signs in: use its web page or `icloud2mqtt login`; a code it waits for can be entered here.",
      );
    const running = plugin?.state.accounts.find((a) => a.id === account.id);
    if (running !== undefined && running.state.state === "blocked") return view(running, "plugin");

    await this.#stopOwn();
    await ensureDir(this.#dir);
    const engine = new Engine({
      stateDir: this.#dir,
      logger: this.#log,
      accounts: [
        {
          id: account.id,
          username: account.username,
          password: request.password,
          ...(account.region === undefined ? {} : { region: account.region }),
          ...(account.endpoint === undefined || account.endpoint === null ? {} : { endpoint: account.endpoint }),
          // Only the sign-in: no service runs in this process.
          findmy: { enabled: false },
          photos: { enabled: false },
          calls: { enabled: false },
        },
      ],
    });
    this.#own = { engine, account: account.id, password: request.password, remember: request.remember };
    await engine.start();
    await settle(engine);
    return this.#afterStep();
  }

  async code(input: unknown): Promise<AccountView> {
    const { account, code } = CodeRequestSchema.parse(input);
    return this.#command(account, "mfa", { account, code });
  }

  async resend(input: unknown): Promise<AccountView> {
    const { account, method, phone_number_id } = ResendRequestSchema.parse(input);
    return this.#command(account, "resend_mfa", {
      account,
      method,
      ...(phone_number_id === undefined ? {} : { phone_number_id }),
    });
  }

  async choice(input: unknown): Promise<AccountView> {
    const { account, choice } = ChoiceRequestSchema.parse(input);
    return this.#command(account, "choice", { account, choice });
  }

  /** Removes a password the user had asked to keep. */
  async forgetPassword(input: unknown): Promise<{ forgotten: true }> {
    const { account } = AccountRequestSchema.parse(input);
    await rm(passwordFile(this.#dir, account), { force: true });
    return { forgotten: true };
  }

  /** Stops this process's own sign-in (the settings window closed). */
  async close(): Promise<void> {
    await this.#stopOwn();
  }

  async #command<C extends ControlCommand>(account: string, command: C, input: CommandInput<C>): Promise<AccountView> {
    const own = this.#own;
    if (own?.account === account) {
      await own.engine.execute(command, input);
      return this.#afterStep();
    }
    const plugin = await ControlClient.find(this.#dir);
    const running = plugin?.state.accounts.find((a) => a.id === account);
    if (plugin === null || running === undefined)
      throw new EngineError("INVALID_STATE", "No sign-in is in progress for this account: sign in first.");
    await plugin.client.execute(command, input);
    const after = (await plugin.client.state()).accounts.find((a) => a.id === account) ?? running;
    const failure = sessionFailure(after.state.session);
    if (failure !== undefined) throw failure;
    return view(after, "plugin");
  }

  /** The own engine's view; once its session is active, the session is stored and the engine stops. */
  async #afterStep(): Promise<AccountView> {
    const own = this.#own;
    if (own === undefined) throw new EngineError("INVALID_STATE", "No sign-in is in progress: sign in first.");
    const summary = own.engine.accounts()[0];
    const current = { id: own.account, username: summary?.username ?? "", state: own.engine.snapshot().state };
    const session = current.state.session;
    const accepted = session.state === "active" || current.state.state === "blocked";
    if (accepted && own.remember) await writeSecret(passwordFile(this.#dir, own.account), own.password);
    if (accepted && !own.remember) await rm(passwordFile(this.#dir, own.account), { force: true });
    if (session.state === "active") {
      this.#completed.set(own.account, view(current, "settings"));
      await this.#stopOwn();
      await this.#nudgePlugin(own.account);
    }
    const failure = sessionFailure(session);
    if (failure !== undefined) {
      // Still waiting for a code (Apple only refused a resend): the sign-in goes on.
      if (current.state.state !== "blocked") await this.#stopOwn();
      throw failure;
    }
    return view(current, "settings");
  }

  /** Asks the running plugin to sign in again, so it takes the session just stored. */
  async #nudgePlugin(account: string): Promise<void> {
    const plugin = await ControlClient.find(this.#dir);
    const running = plugin?.state.accounts.find((a) => a.id === account);
    if (plugin === null || running === undefined || running.state.session.state === "active") return;
    try {
      await plugin.client.execute("reauthenticate", { account });
    } catch (error) {
      this.#log.warn(`the plugin did not take the new session yet: ${(error as Error).message}`);
    }
  }

  async #stopOwn(): Promise<void> {
    const own = this.#own;
    this.#own = undefined;
    if (own !== undefined) await own.engine.stop();
  }
}

function view(
  account: Pick<ControlAccount, "id" | "username"> & { state: ControlAccount["state"] },
  via: AccountView["via"],
): AccountView {
  return {
    id: account.id,
    username: account.username,
    via,
    state: account.state.state,
    session: account.state.session,
    prev_error: account.state.prevError,
  };
}

/** Waits until the sign-in needs the user (code, choice), is active, or failed; at most a minute. */
async function settle(engine: Engine): Promise<void> {
  const done = () => {
    const state = engine.snapshot().state;
    const session = state.session;
    return (
      state.state === "blocked" ||
      session.state === "active" ||
      (state.state !== "running" && session.state !== "pending" && session.error !== null) ||
      (state.state === "ready" && state.prevError !== null)
    );
  };
  const deadline = Date.now() + SETTLE_MS;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}
