import type { Logger } from "../logger.ts";
import type { SimClock } from "./context.ts";
import {
  accountDsid,
  accountFirstName,
  accountFixedCode,
  type PhoneListLayout,
  type Scenario,
  type ScenarioAccount,
} from "./scenario.ts";
import { createSrpRecord, type SrpRecord } from "./srp-server.ts";
import { newCode } from "./tokens.ts";

/** How long a code a device or phone shows stays acceptable (Apple: about 10 minutes, empirical). */
export const CODE_LIFETIME_MS = 10 * 60_000;

export type CodeChannel = "device" | "sms" | "voice" | "2sv";

export interface AccountStats {
  signin_init: number;
  srp_signins: number;
  srp_failures: number;
  codes_sent: Record<CodeChannel, number>;
  trust_tokens_issued: number;
  account_logins: number;
  validates: number;
  logouts: number;
}

export interface ShownCode {
  code: string;
  channel: CodeChannel;
  sent_at: string;
}

interface LiveCode {
  code: string;
  expiresAt: number;
}

/** One scenario account at run time: its SRP record (no password kept), codes and counters. */
export interface SimAccount {
  config: ScenarioAccount;
  appleId: string;
  dsid: string;
  firstName: string;
  phoneListLayout: PhoneListLayout;
  srp: SrpRecord;
  stats: AccountStats;
  /** Codes currently valid, by channel key (`device`, `phone:<id>`, `2sv:<deviceId>`). */
  codes: Map<string, LiveCode>;
  lastShown?: ShownCode;
}

export const emptyStats = (): AccountStats => ({
  signin_init: 0,
  srp_signins: 0,
  srp_failures: 0,
  codes_sent: { device: 0, sms: 0, voice: 0, "2sv": 0 },
  trust_tokens_issued: 0,
  account_logins: 0,
  validates: 0,
  logouts: 0,
});

export class SimAccounts {
  readonly #byAppleId = new Map<string, SimAccount>();
  readonly #byDsid = new Map<string, SimAccount>();
  readonly #clock: SimClock;
  readonly #log: Logger;

  constructor(scenario: Scenario, clock: SimClock, log: Logger) {
    this.#clock = clock;
    this.#log = log;
    for (const config of scenario.accounts) {
      const state: SimAccount = {
        config,
        appleId: config.apple_id,
        dsid: accountDsid(config),
        firstName: accountFirstName(config),
        phoneListLayout: config.phone_list_layout ?? scenario.phone_list_layout,
        srp: createSrpRecord(config.password, config.srp.protocol, config.srp.iterations),
        stats: emptyStats(),
        codes: new Map(),
      };
      if (this.#byDsid.has(state.dsid)) throw new Error(`invalid scenario: two accounts share dsid ${state.dsid}`);
      this.#byAppleId.set(state.appleId.toLowerCase(), state);
      this.#byDsid.set(state.dsid, state);
    }
  }

  all(): SimAccount[] {
    return [...this.#byAppleId.values()];
  }

  byAppleId(appleId: string): SimAccount | undefined {
    return this.#byAppleId.get(appleId.trim().toLowerCase());
  }

  byDsid(dsid: string): SimAccount | undefined {
    return this.#byDsid.get(dsid);
  }

  /** Makes a device/phone show a code (fixed or random), counts and logs it; returns the code. */
  sendCode(account: SimAccount, channelKey: string, channel: CodeChannel): string {
    const fixed = accountFixedCode(account.config);
    const code = fixed ?? newCode(channel === "2sv" ? 4 : 6);
    const now = this.#clock.now();
    account.codes.set(channelKey, { code, expiresAt: now + CODE_LIFETIME_MS });
    account.stats.codes_sent[channel] += 1;
    account.lastShown = { code, channel, sent_at: new Date(now).toISOString() };
    if (fixed === undefined) {
      this.#log.info(`${account.appleId}: ${channel} shows code ${code}`, { channel, apple_id: account.appleId });
    } else {
      this.#log.info(`${account.appleId}: ${channel} shows the scenario's fixed code`, { channel });
    }
    return code;
  }

  /** True when `code` is the live code of the channel; a matching code is used up. */
  checkCode(account: SimAccount, channelKey: string, code: string): boolean {
    const live = account.codes.get(channelKey);
    if (!live || live.expiresAt <= this.#clock.now() || live.code !== code) return false;
    account.codes.delete(channelKey);
    return true;
  }
}
