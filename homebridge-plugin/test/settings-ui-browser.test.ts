import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLE_ID, CODE, PASSWORD, startTestSimulator } from "./support/simulator.ts";
import { UiServer } from "./support/ui-server.ts";

/**
 * The settings page (`public/index.html`) in headless Chromium, with a stand-in for Homebridge UI's
 * `window.homebridge` whose `request` goes to the real settings server (forked, over IPC) against
 * the simulator: the user signs in and types the code as in the Homebridge UI.
 */

const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM) && !process.env["CI"];
const PAGE = new URL("../src/homebridge-ui/public/index.html", import.meta.url);

/** What Homebridge UI offers the page, recording toasts and config updates. */
const HOMEBRIDGE_STUB = `
window.__toasts = [];
window.__updated = null;
const toast = (kind) => (message) => window.__toasts.push(kind + ": " + message);
window.homebridge = {
  request: (path, body) => window.__request(path, body).then((r) => (r.success ? r.data : Promise.reject(r.data))),
  showSpinner() {},
  hideSpinner() {},
  toast: { success: toast("success"), error: toast("error"), info: toast("info"), warning: toast("warning") },
  getPluginConfig: async () => [window.__config],
  updatePluginConfig: async (configs) => { window.__updated = configs; return configs; },
  showSchemaForm() {},
};`;

/** The one Bootstrap rule the page's logic relies on (Homebridge UI loads Bootstrap 5). */
const BOOTSTRAP_SUBSET = ".d-none { display: none !important; }";

describe.skipIf(skip)("the settings page in Chromium", () => {
  let browser: Browser;
  let storage: string;
  beforeAll(async () => {
    storage = await mkdtemp(join(tmpdir(), "i2m-hb-page-"));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await rm(storage, { recursive: true, force: true });
  });

  it("signs in with the password, a resend by SMS and the code, and shows the account signed in", async () => {
    const sim = await startTestSimulator();
    const ui = new UiServer(storage);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    try {
      await ui.ready;
      await page.exposeFunction("__request", (path: string, body: unknown) => ui.request(path, body));
      const config = { platform: "iCloud2MQTT", name: "iCloud", accounts: [] };
      const html = await readFile(PAGE, "utf8");
      await page.setContent(
        `<!doctype html><html><head><style>${BOOTSTRAP_SUBSET}</style></head><body><script>${HOMEBRIDGE_STUB}\nwindow.__config = ${JSON.stringify(config)};</script>${html}</body></html>`,
      );
      await page.locator("#i2m-plugin").filter({ hasText: "The plugin is not running" }).waitFor({ timeout: 10_000 });

      // A new account: id, Apple ID, password; the simulator's endpoint comes from the account's
      // settings, so this test adds it to the config the page reads.
      await page.evaluate((url) => {
        const w = globalThis as unknown as { __config: { accounts: unknown[] } };
        w.__config.accounts = [{ id: "hb", username: "hb@example.com", endpoint: url }];
      }, sim.url);
      await page.fill("#i2m-id", "hb");
      await page.fill("#i2m-user", APPLE_ID);
      await page.fill("#i2m-pass", PASSWORD);
      await page.click("#i2m-signin button[type=submit]");
      await page.locator("#i2m-code").waitFor({ state: "visible", timeout: 10_000 });
      expect(await page.textContent("#i2m-code-hint")).toBe("A code is shown on your trusted Apple devices.");
      expect(await page.inputValue("#i2m-pass")).toBe("");
      expect(await page.locator("#i2m-phones button").allTextContents()).toEqual([
        "SMS to +46 •• ••• •• 58",
        "call +46 •• ••• •• 58",
      ]);

      // Resend by SMS, then the code.
      await page.click("#i2m-phones button[data-method=sms]");
      await page.locator("#i2m-code-hint").filter({ hasText: "A code was sent by SMS." }).waitFor({ timeout: 10_000 });
      await page.fill("#i2m-code-input", CODE);
      await page.click("#i2m-code button[type=submit]");
      await page
        .locator("#i2m-accounts")
        .filter({ hasText: "hb (hb@example.com): signed in, trusted until" })
        .waitFor({ timeout: 10_000 });
      const toasts = await page.evaluate(() => (globalThis as unknown as { __toasts: string[] }).__toasts);
      expect(toasts).toContain("success: Signed in to iCloud as hb@example.com.");
      expect(await page.isVisible("#i2m-code")).toBe(false);
      expect(errors).toEqual([]);
      expect((await readdir(join(storage, "icloud2mqtt", "sessions"))).some((f) => f.endsWith(".session.json"))).toBe(
        true,
      );
    } catch (error) {
      const toasts = await page.evaluate(() => (globalThis as unknown as { __toasts: string[] }).__toasts);
      throw new Error(
        `${(error as Error).message}\ntoasts: ${JSON.stringify(toasts)}\npage errors: ${errors.join("; ")}`,
      );
    } finally {
      await page.close();
      await ui.close();
      await sim.close();
    }
  });
});
