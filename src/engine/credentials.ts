import { SessionStore } from "../icloud/session-store.ts";
import { sessionsDir } from "../icloud/state-dir.ts";
import type { AccountConfig } from "./account-config.ts";

export interface CredentialProblem {
  /** Index in `accounts`. */
  index: number;
  account: string;
  message: string;
}

/**
 * Accounts that can never sign in: no password and no stored session (tokens or web cookies, as
 * `icloud2mqtt login` leaves them) in the state folder. `config check` reports them and `run` refuses
 * to start with them, instead of an account that stays signed out.
 */
export async function credentialProblems(
  accounts: readonly AccountConfig[],
  stateDir: string,
): Promise<CredentialProblem[]> {
  const store = new SessionStore(sessionsDir(stateDir));
  const problems: CredentialProblem[] = [];
  for (const [index, account] of accounts.entries()) {
    if (account.password !== null) continue;
    const stored = await store.load(account.username).catch(() => undefined);
    if (stored?.session_token !== undefined || stored?.cookies !== undefined) continue;
    problems.push({
      index,
      account: account.id,
      message: `no password and no stored session in ${stateDir}: set password or password_file (or ICLOUD2MQTT_ACCOUNTS__${index}__PASSWORD), or sign in once with \`icloud2mqtt login --username ${account.username} --state-dir ${stateDir}\``,
    });
  }
  return problems;
}
