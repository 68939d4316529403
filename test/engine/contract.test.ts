import { Engine } from "../../src/engine/engine.ts";
import { engineContract } from "../support/engine-contract.ts";
import { testConfig } from "../support/engine-harness.ts";
import { onCleanup, tempDir } from "../support/harness.ts";

/** The embedded engine against the engine contract (the same tests run for RemoteEngine in test/remote). */
engineContract(
  "Engine (embedded)",
  async ({ sim, account, id, settings }) => {
    const dir = await tempDir("i2m-contract-");
    const config = await testConfig({ sim, dir, account, id, settings });
    const engine = new Engine({ accounts: config.accounts, stateDir: config.state_dir });
    onCleanup(() => engine.stop());
    await engine.start();
    return engine;
  },
  "20000000501",
);
