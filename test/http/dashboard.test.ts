import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HttpServer } from "../../src/http/index.ts";
import { findMyProbe } from "../../src/simulator/findmy/index.ts";
import { engineHarness, steadyDevice } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, type TestAccount, until } from "../support/harness.ts";
import { httpConfig } from "../support/http.ts";

/**
 * The dashboard driven in Chromium against the real engine and the iCloud simulator: the banner while
 * a code is needed, the devices with their battery and home/away, the map (tiles answered by the test,
 * the machine has no internet) or the list with map links when offline, the latest photo and recent
 * calls, and a play-sound button that reaches the simulated device. Screenshots are kept in
 * `test-artifacts/` (ignored by git).
 */

const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM) && !process.env["CI"];
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const DSID = "20000000777";
const ACCOUNT: TestAccount = {
  appleId: "dash@example.com",
  password: "dashboard-password",
  code: "582046",
  dsid: DSID,
};
const HOME = { latitude: 40.7, longitude: -74, radius: 200 };
/** A 1×1 PNG for every map tile. */
const TILE = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

describe.skipIf(skip)("the dashboard in Chromium (real engine, simulated iCloud)", () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close();
    await cleanUp();
    expect(errors).toEqual([]);
  });

  async function start(offline = false): Promise<{ url: string; tiles: string[] }> {
    const { engine, dir } = await engineHarness({
      account: ACCOUNT,
      spec: {
        findmy: {
          first_name: "Jane",
          devices: [
            steadyDevice("Jane’s iPhone", "iPhone16,1", "iPhone", 0.8, { latitude: 40.7, longitude: -74, age: "2m" }),
            steadyDevice("Jane's iPad", "iPad13,16", "iPad", 0.35, { latitude: 40.75, longitude: -73.98, age: "5m" }),
          ],
        },
        photos: { count: 3, seed: 4 },
        calls: { generate: { count: 3, seed: 4 } },
      },
      dirPrefix: "i2m-dashboard-",
      id: "jane",
      settings: { findmy: { family: false, home: HOME } },
    });
    const server = new HttpServer({
      api: engine,
      config: httpConfig(),
      push: { enabled: false, subject: null },
      stateDir: dir,
    });
    const { url } = await server.start();
    onCleanup(() => server.stop());
    await engine.start();
    await until(() => engine.snapshot("jane").state.state === "blocked", "waiting for the code");

    errors = [];
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    onCleanup(() => context.close());
    // The browser says it is offline (Playwright's own offline mode would cut this page's API too).
    if (offline)
      await context.addInitScript('Object.defineProperty(Navigator.prototype, "onLine", { get: () => false })');
    const tiles: string[] = [];
    await context.route("https://tile.openstreetmap.org/**", (route) => {
      tiles.push(route.request().url());
      return route.fulfill({ status: 200, contentType: "image/png", body: TILE });
    });
    page = await context.newPage();
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (msg) => {
      // Failed loads are checked by URL below.
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) errors.push(msg.text());
    });
    page.on("response", (response) => {
      // Push is off here: the page asks for the key and hides the button on 404.
      if (response.status() >= 400 && !response.url().includes("/api/vapid-public-key"))
        errors.push(`${response.status()} ${response.url()}`);
    });
    page.on("requestfailed", (request) => errors.push(`failed: ${request.url()}`));
    page.on("dialog", (dialog) => void dialog.accept());
    await page.goto(url);
    // The banner while a code is needed; then the code arrives (as the MFA page would send it).
    await expect.poll(() => page.locator("#blocked-banner").isVisible()).toBe(true);
    expect(await page.getByRole("link", { name: "Enter the code" }).isVisible()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-code-needed.png` });
    await engine.execute("mfa", { account: "jane", code: ACCOUNT.code });
    await expect.poll(() => page.locator("#blocked-banner").isVisible(), { timeout: 15_000 }).toBe(false);
    await expect.poll(() => page.locator('[data-service="findmy"] .item').count(), { timeout: 15_000 }).toBe(2);
    return { url, tiles };
  }

  const item = (name: string) => page.locator('[data-service="findmy"] .item').filter({ hasText: name });

  it("lists the devices with battery and home/away on a map, plays a sound, shows the photo and recent calls", async () => {
    const { tiles } = await start();
    const iphone = item("Jane’s iPhone");
    await expect.poll(() => iphone.locator("dd").first().textContent()).toBe("80 %");
    expect(await iphone.locator(".badge").allTextContents()).toContain("Home");
    const ipad = item("Jane's iPad");
    expect(await ipad.locator("dd").first().textContent()).toBe("35 %");
    expect(await ipad.locator(".badge").allTextContents()).toContain("Away");
    expect(await ipad.getByRole("link", { name: "Open map" }).getAttribute("href")).toMatch(
      /^https:\/\/www\.openstreetmap\.org\/\?mlat=40\.75&mlon=-73\.98/,
    );

    // The map, with tiles from the configured server (answered here: the machine is offline).
    const map = page.locator('[data-service="findmy"] .map');
    await expect.poll(() => map.getAttribute("data-tiles"), { timeout: 10_000 }).toBe("loaded");
    expect(tiles.length).toBeGreaterThan(0);
    expect(await map.locator(".leaflet-interactive").count()).toBeGreaterThanOrEqual(2);

    // Photos and calls, each from its own card description.
    const photo = page.locator('[data-service="photos"] img.card-image');
    await expect
      .poll(() => photo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-service="calls"] .item').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-service="findmy"] .sync-status').textContent()).toMatch(/^Synced: last sync/);

    // Play sound reaches the simulated iPhone.
    const probe = findMyProbe(DSID);
    const before = probe?.actions().length ?? 0;
    await page.getByRole("button", { name: "Play sound: Jane’s iPhone" }).click();
    await expect
      .poll(() => page.locator('[data-service="findmy"] .card-status').textContent(), { timeout: 10_000 })
      .toBe("Play sound: done");
    const actions = probe?.actions().slice(before) ?? [];
    expect(actions.map((a) => a.kind)).toEqual(["playSound"]);
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
  }, 60_000);

  it("offline: no map and no tile requests, the devices as a list with map links", async () => {
    const { tiles } = await start(true);
    await expect.poll(() => item("Jane’s iPhone").locator("dd").first().textContent()).toBe("80 %");
    expect(await page.locator(".map").count()).toBe(0);
    expect(await page.locator('[data-service="findmy"] .map-note').isVisible()).toBe(true);
    expect(await page.getByRole("link", { name: "Open map" }).count()).toBe(2);
    expect(tiles).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-offline.png`, fullPage: true });
  }, 60_000);
});
