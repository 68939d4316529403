import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LogEntry } from "../../src/engine/events.ts";
import {
  blockedState,
  GOOD_CODE,
  type Harness,
  readyState,
  startHarness,
  TWO_STEP_CODE,
  twoStepState,
} from "../support/http.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM) && !process.env["CI"];

describe.skipIf(skip)("web UI in Chromium", () => {
  let browser: Browser;
  let h: Harness | undefined;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(harness: Harness, path: string): Promise<void> {
    h = harness;
    errors = [];
    page = await browser.newPage();
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (msg) => {
      // a 4xx answer the test provokes is logged by Chromium as a failed resource load
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) errors.push(msg.text());
    });
    await page.goto(harness.url + path);
  }

  afterEach(async () => {
    await page?.close();
    await h?.close();
    h = undefined;
    expect(errors).toEqual([]);
  });

  it("enters a code (wrong, then pasted) and sees the state change", async () => {
    const harness = await startHarness();
    harness.engine.setState("main", blockedState("main"));
    await open(harness, "mfa");
    const code = page.getByLabel("Six-digit code from your Apple device or SMS");
    await code.fill("111111");
    await expect.poll(() => page.getByRole("status").textContent()).toMatch(/not accepted/);
    await code.evaluate((input, digits) => {
      // runs in the page; the test project is compiled without the DOM library
      const page = globalThis as unknown as {
        DataTransfer: new () => { setData(type: string, value: string): void };
        ClipboardEvent: new (type: string, init: object) => object;
      };
      const data = new page.DataTransfer();
      data.setData("text", ` ${digits.slice(0, 3)}-${digits.slice(3)} `);
      const target = input as unknown as { dispatchEvent(event: object): boolean };
      target.dispatchEvent(new page.ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, GOOD_CODE);
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Code accepted.");
    await expect.poll(() => page.locator("body").getAttribute("data-state")).toBe("ready");
    expect(await page.locator("#not-blocked").isVisible()).toBe(true);
    expect(harness.engine.executed.map((c) => c.input)).toEqual([
      { account: "main", code: "111111" },
      { account: "main", code: GOOD_CODE },
    ]);
    await page.getByRole("link", { name: "Dashboard", exact: true }).click();
    await expect.poll(() => page.locator("#state-text").textContent()).toBe("Ready");
  });

  it("resends the code by SMS to a chosen trusted number", async () => {
    const harness = await startHarness();
    harness.engine.setState("main", blockedState("main"));
    await open(harness, "mfa");
    await page.getByLabel("by SMS").check();
    await page.getByLabel("Trusted phone number").selectOption({ label: "+49 ••• •••••34" });
    await page.getByRole("button", { name: "Send code" }).click();
    await expect
      .poll(() => page.getByRole("status").textContent())
      .toBe("Requesting MFA resend with method 'SMS' (Number ID: 2)");
    expect(harness.engine.executed).toEqual([
      { command: "resend_mfa", input: { account: "main", method: "sms", phone_number_id: 2 } },
    ]);
  });

  it("offers the 2SV choice list", async () => {
    const harness = await startHarness();
    harness.engine.setState("main", blockedState("main", "choice"));
    await open(harness, "mfa");
    await page.getByRole("button", { name: "iPad" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Choice received");
    await expect.poll(() => page.locator("#code-section").isVisible()).toBe(true);
  });

  it("takes a four-digit legacy two-step code", async () => {
    const harness = await startHarness();
    harness.engine.setState("main", twoStepState("main"));
    await open(harness, "mfa");
    const code = page.getByLabel("Verification code sent to the chosen device");
    await code.fill(TWO_STEP_CODE);
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Code accepted.");
    expect(await page.locator("#resend-section").isVisible()).toBe(false);
    expect(harness.engine.executed.map((c) => c.input)).toEqual([{ account: "main", code: TWO_STEP_CODE }]);
  });

  it("filters the log by level", async () => {
    const harness = await startHarness();
    const entry = (level: LogEntry["level"], message: string): LogEntry => ({
      account: "main",
      level,
      time: 1_767_225_600_000,
      source: "Test",
      message,
    });
    harness.engine.logEntries = [
      entry("debug", "debug line"),
      entry("info", "<b>info</b> line"),
      entry("error", "error line"),
    ];
    await open(harness, "log");
    const rows = page.locator("#lines tr");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.locator("#lines").textContent()).toContain("<b>info</b> line"); // text, not HTML
    await page.getByLabel("Level").selectOption("error");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain("error line");
    await page.getByLabel("Level").selectOption("debug");
    await expect.poll(() => rows.count()).toBe(3);
  });

  it("warns a week ahead that Apple's trust ends (a new code will be needed), not earlier", async () => {
    const harness = await startHarness();
    const expiring = readyState("main");
    const soon = new Date(Date.now() + 3.5 * 86_400_000).toISOString();
    harness.engine.setState("main", { ...expiring, session: { ...expiring.session, trust_expires_at: soon } });
    const family = readyState("family");
    const month = new Date(Date.now() + 30 * 86_400_000).toISOString();
    harness.engine.setState("family", { ...family, session: { ...family.session, trust_expires_at: month } });
    await open(harness, "?account=main");
    const banner = page.locator("#trust-banner");
    await expect.poll(() => banner.isVisible()).toBe(true);
    expect(await banner.textContent()).toMatch(
      /^Apple's trust in this sign-in ends in 3 days \(.+\): iCloud will then ask for a new verification code\.$/,
    );
    expect(await page.locator("#blocked-banner").isVisible()).toBe(false);
    // Trust for a month: no banner.
    await page.getByLabel("Account").selectOption("family");
    await expect.poll(() => banner.isVisible()).toBe(false);
  });

  it("works under a base path: state page, Sync now, service worker scope", async () => {
    const harness = await startHarness({ http: { base_path: "/icloud/" } });
    harness.engine.setState("family", blockedState("family"));
    await open(harness, "?account=family");
    await expect.poll(() => page.locator("#state-text").textContent()).toBe("Waiting for a verification code");
    expect(await page.getByRole("link", { name: "Enter the code" }).isVisible()).toBe(true);
    await page.getByLabel("Account").selectOption("main");
    await expect.poll(() => page.locator("#state-text").textContent()).toBe("Ready");
    await page.getByRole("button", { name: "Sync now" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Sync requested");
    expect(harness.engine.executed).toEqual([{ command: "sync", input: { account: "main" } }]);
    // browser-side expressions as strings: the test project is compiled without the DOM library
    const scope = await page.evaluate<string>("navigator.serviceWorker.ready.then((r) => r.scope)");
    expect(new URL(scope).pathname).toBe("/icloud/");
    const manifest = await page.evaluate<number>(
      `fetch(document.querySelector('link[rel="manifest"]').href).then((r) => r.status)`,
    );
    expect(manifest).toBe(200);
  });
});
