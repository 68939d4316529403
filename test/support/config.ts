import { resolveConfig } from "../../src/config/load.ts";
import type { AccountConfig } from "../../src/engine/account-config.ts";

/** A validated account config with the given `calls` section (everything else default). */
export async function parseConfig(calls: Record<string, unknown>): Promise<AccountConfig> {
  const { config } = await resolveConfig({
    accounts: [{ id: "t", username: "t@example.com", calls }],
    http: { enabled: false },
  });
  const account = config.accounts[0];
  if (!account) throw new Error("no account");
  return account;
}
