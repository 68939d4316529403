import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "icloud2mqtt/engine";
import { parseScenario, SIMULATOR_SERVICES, startSimulator } from "icloud2mqtt/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HOMEBRIDGE_PACKAGES, loadHomebridge, startInstance } from "./support/homebridge.ts";
import { service, value } from "./support/read.ts";
import { APPLE_ID, CODE, PASSWORD, startTestSimulator, testAccount, until } from "./support/simulator.ts";
import { UiServer } from "./support/ui-server.ts";

/** The settings UI's server (support/ui-server.ts: forked, over IPC) against the simulator. */

interface View {
  id: string;
  via: string;
  state: string;
  session: {
    state: string;
    error: string | null;
    error_info: { method?: string; trusted_phone_numbers?: Array<{ id: number }> } | null;
    trust_expires_at: string | null;
  };
  prev_error: { code: string } | null;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let storage: string;
let hb: Awaited<ReturnType<typeof loadHomebridge>>;
beforeAll(async () => {
  storage = await mkdtemp(join(tmpdir(), "i2m-hb-ui-"));
  hb = await loadHomebridge(HOMEBRIDGE_PACKAGES[1]);
  hb.User.setStoragePath(storage);
});
afterAll(() => rm(storage, { recursive: true, force: true }));

async function startUi(): Promise<UiServer> {
  const ui = new UiServer(storage);
  cleanups.push(() => ui.close());
  await ui.ready;
  return ui;
}

describe("the settings UI server over IPC", () => {
  it("signs in with password and code (resend by SMS, a wrong code, Apple's rate limit) and stores the session", async () => {
    const sim = await startTestSimulator();
    cleanups.push(() => sim.close());
    const ui = await startUi();
    expect(await ui.ok("/status", {})).toEqual({ plugin: { running: false }, accounts: [] });
    expect(await ui.request("/nowhere", {})).toEqual({
      success: false,
      data: { message: "Not Found", path: "/nowhere" },
    });
    expect(await ui.request("/sign-in", { account: { id: "hb", username: APPLE_ID } })).toMatchObject({
      success: false,
      data: { message: "Invalid input: expected string, received undefined", error: { code: "INVALID_INPUT" } },
    });

    const account = { id: "hb", username: APPLE_ID, endpoint: sim.url };
    const blocked = await ui.ok<View>("/sign-in", { account, password: PASSWORD });
    expect(blocked).toMatchObject({ id: "hb", via: "settings", state: "blocked", session: { error: "code-required" } });
    const phone = blocked.session.error_info?.trusted_phone_numbers?.[0];
    expect(phone).toBeDefined();
    expect((await ui.ok<{ accounts: View[] }>("/status", {})).accounts.map((a) => [a.id, a.via, a.state])).toEqual([
      ["hb", "settings", "blocked"],
    ]);

    const sms = await ui.ok<View>("/resend", { account: "hb", method: "sms", phone_number_id: phone?.id });
    expect(sms.session.error_info?.method).toBe("sms");
    expect(sim.stats(APPLE_ID).codes_sent).toMatchObject({ sms: 1 });

    // Apple's rate limit reaches the UI as one message with the time to wait.
    sim.faults.add({ endpoint: "idmsa.phone.request", kind: "rate_limit", retry_after: 600, times: 1 });
    const limited = await ui.request("/resend", { account: "hb", method: "voice", phone_number_id: phone?.id });
    expect(limited).toEqual({
      success: false,
      data: {
        message: "Apple asks to wait 600 s before trying again.",
        error: { code: "RATE_LIMITED", message: "Apple asks to wait 600 s before trying again.", retry_after: 600 },
      },
    });

    const message = "That code was not accepted. Check it and try again.";
    expect(await ui.request("/code", { account: "hb", code: "000000" })).toEqual({
      success: false,
      data: { message, error: { code: "CODE_INVALID", message } },
    });

    const signedIn = await ui.ok<View>("/code", { account: "hb", code: CODE });
    expect(signedIn).toMatchObject({ via: "settings", session: { state: "active", error: null } });
    expect(Date.parse(signedIn.session.trust_expires_at ?? "")).toBeGreaterThan(Date.now());

    // The session is stored (0600) without the password, which was not kept.
    const dir = join(storage, "icloud2mqtt");
    const sessions = await readdir(join(dir, "sessions"));
    const file = sessions.find((f) => f.endsWith(".session.json"));
    expect(file).toBeDefined();
    expect((await stat(join(dir, "sessions", file as string))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, "sessions", file as string), "utf8")).not.toContain(PASSWORD);
    expect(await readdir(dir)).not.toContain("passwords");
    expect(ui.output.join("")).not.toContain(PASSWORD);

    // The plugin's engine then starts on that folder without a password or a code.
    const srp = sim.stats(APPLE_ID).srp_signins;
    const engine = new Engine({ stateDir: dir, accounts: [{ ...testAccount(sim), password: null }] });
    cleanups.push(() => engine.stop());
    await engine.start();
    await until(() => engine.snapshot("hb").state.session.state === "active", "the stored session");
    expect(sim.stats(APPLE_ID).srp_signins).toBe(srp);
    await engine.stop();

    // Asked to, it keeps the password (0600) for the plugin's later sign-ins; and forgets it again.
    await ui.ok("/sign-in", { account, password: PASSWORD, remember: true });
    const kept = join(dir, "passwords", "hb");
    expect(await readFile(kept, "utf8")).toBe(PASSWORD);
    expect((await stat(kept)).mode & 0o777).toBe(0o600);
    await ui.ok("/forget-password", { account: "hb" });
    expect(await readdir(join(dir, "passwords"))).toEqual([]);
  });

  it("takes a legacy two-step account through the device choice and its code", async () => {
    const appleId = "twosv@example.com";
    const sim = await startSimulator({
      port: 0,
      services: [...SIMULATOR_SERVICES],
      scenario: parseScenario({
        accounts: [
          {
            apple_id: appleId,
            password: PASSWORD,
            srp: { protocol: "s2k", iterations: 1000 },
            mfa: {
              kind: "2sv",
              devices_2sv: [{ device_id: "1", device_type: "SMS", phone_number: "********58", area_code: "" }],
            },
          },
        ],
      }),
    });
    cleanups.push(() => sim.close());
    const ui = await startUi();
    const account = { id: "twosv", username: appleId, endpoint: sim.url };
    const choice = await ui.ok<View & { session: { error_info: { choices?: string[] } } }>("/sign-in", {
      account,
      password: PASSWORD,
    });
    expect(choice).toMatchObject({ state: "blocked", session: { error: "choice-required" } });
    expect(choice.session.error_info.choices).toEqual(["********58 - SMS to Phone Number"]);
    const code = await ui.ok<View>("/choice", { account: "twosv", choice: "********58 - SMS to Phone Number" });
    expect(code).toMatchObject({
      state: "blocked",
      session: { error: "code-required", error_info: { method: "2sv" } },
    });
    const shown = sim.deviceCode(appleId)?.code;
    expect(shown).toMatch(/^\d{4,8}$/);
    expect(await ui.ok<View>("/code", { account: "twosv", code: shown })).toMatchObject({
      via: "settings",
      session: { state: "active" },
    });
  });

  it("while the plugin runs, shows its accounts and hands it the code instead of signing in again", async () => {
    const sim = await startTestSimulator();
    cleanups.push(() => sim.close());
    const plugin = await startInstance(hb, { accounts: [testAccount(sim)] });
    cleanups.push(() => plugin.platform.shutdown());
    const ui = await startUi();
    await until(async () => {
      const status = await ui.ok<{ accounts: View[] }>("/status", {});
      return status.accounts[0]?.state === "blocked";
    }, "the plugin waiting for a code");
    const status = await ui.ok<{ plugin: { running: boolean; mode: string }; accounts: View[] }>("/status", {});
    expect(status.plugin).toMatchObject({ running: true, mode: "embedded" });
    expect(status.accounts.map((a) => [a.id, a.via, a.state])).toEqual([["hb", "plugin", "blocked"]]);

    // Signing in again while the plugin waits for its code would start a second sign-in: the UI
    // gets the plugin's waiting account instead, and the code goes to the plugin.
    const srp = sim.stats(APPLE_ID).srp_signins;
    const view = await ui.ok<View>("/sign-in", {
      account: { id: "hb", username: APPLE_ID, endpoint: sim.url },
      password: PASSWORD,
    });
    expect(view).toMatchObject({ via: "plugin", state: "blocked" });
    expect(sim.stats(APPLE_ID).srp_signins).toBe(srp);
    const done = await ui.ok<View>("/code", { account: "hb", code: CODE });
    expect(done).toMatchObject({ via: "plugin", session: { state: "active" } });
    await until(() => plugin.platform.accessories.length === 5, "the plugin's devices");
    const account = plugin.platform.accessories.find((a) => a.displayName === "iCloud hb");
    expect(account && (await value(service(account, "sign-in"), "Contact Sensor State"))).toBe(0);
  });
});
