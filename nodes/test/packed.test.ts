/**
 * The package as a user installs it (npm pack → a Node-RED user folder) in real Node-RED processes:
 * Node-RED 4.1 (it `require()`s the node files) takes a flow through the admin API and sends device
 * messages to a websocket; Node-RED 5.0's editor, driven in headless Chromium, adds the account,
 * deploys, shows "code needed", takes the code in the account dialog and turns the status green.
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { SimulatorHandle } from "icloud2mqtt/testing";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountIdFor } from "../src/index.ts";
import { installPackedPackage, startNodeRed } from "./support/node-red-process.ts";
import { cleanUp, JANE, onCleanup, startAccountSimulator, type TestAccount, until } from "./support/world.ts";

const CHROMIUM = "/usr/bin/chromium";
const skipChromium = !existsSync(CHROMIUM) && !process.env["CI"];
const JOHN: TestAccount = { appleId: "john@example.com", password: "john-in-the-editor", code: "224466" };

interface NodeInfo {
  module: string;
  types: string[];
  enabled: boolean;
  err?: unknown;
}

describe("the packed package in real Node-RED processes", () => {
  let userDir: string;
  let simJane: SimulatorHandle;
  let simJohn: SimulatorHandle;

  beforeAll(async () => {
    [simJane, simJohn, userDir] = await Promise.all([
      startAccountSimulator(JANE),
      startAccountSimulator(JOHN),
      installPackedPackage(),
    ]);
  }, 300_000);
  afterAll(cleanUp, 60_000);

  it("Node-RED 4.1: a flow deployed through the admin API sends device messages to a websocket", async () => {
    const red = await startNodeRed({
      runtime: "node-red-4",
      userDir,
      settings: { icloudAccountEndpoint: simJane.url, icloudAccountGraceMs: 1_000 },
    });
    const nodes = (await (
      await fetch(`${red.url}/nodes`, { headers: { accept: "application/json" } })
    ).json()) as NodeInfo[];
    const ours = nodes.filter((set) => set.module === "node-red-contrib-icloud2mqtt");
    expect(ours.flatMap((set) => set.types).sort()).toEqual([
      "icloud-account",
      "icloud-action",
      "icloud-device",
      "icloud-events",
      "icloud-mfa",
    ]);
    expect(ours.every((set) => set.enabled && (set.err === undefined || set.err === null))).toBe(true);

    const flow = [
      { id: "tab", type: "tab", label: "iCloud" },
      {
        id: "acct",
        type: "icloud-account",
        name: "Jane",
        mode: "embedded",
        credentials: { username: JANE.appleId, password: JANE.password },
      },
      {
        id: "dev",
        type: "icloud-device",
        z: "tab",
        account: "acct",
        device: "",
        filter: "change",
        wires: [["ws-out"]],
      },
      { id: "ws-listener", type: "websocket-listener", path: "/ws/icloud", wholemsg: "true" },
      { id: "ws-out", type: "websocket out", z: "tab", server: "ws-listener", client: "", wires: [] },
    ];
    const deployed = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { "content-type": "application/json", "node-red-deployment-type": "full" },
      body: JSON.stringify(flow),
    });
    expect(deployed.status).toBe(204);

    // The flows run once the account asks for its code; the websocket listener is up then.
    await red.waitFor(/iCloud needs a verification code/, "the code request");
    const received: Array<{ topic?: string; payload?: { data_type?: string; name?: string } }> = [];
    const socket = new WebSocket(`${red.url.replace("http", "ws")}/ws/icloud`);
    socket.addEventListener("message", (event) => void received.push(JSON.parse(String(event.data))));
    onCleanup(async () => socket.close());
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the websocket did not open")), 10_000);
      socket.addEventListener("open", () => resolve(clearTimeout(timer)));
      socket.addEventListener("error", () => reject(new Error("the websocket failed")));
    });
    const answer = await fetch(`${red.url}/icloud2mqtt/accounts/acct/mfa`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: JANE.code }),
    });
    expect(answer.status).toBe(200);
    await until(() => received.length >= 2, "device messages on the websocket", 30_000);
    expect(received.map((msg) => msg.payload?.name).sort()).toEqual(["Jane's iPad", "Jane's iPhone"]);
    expect(received[0]?.payload?.data_type).toBe("fmip.device");

    // Credentials stay encrypted in flows_cred; the session lives in the user folder, for Node-RED's user only.
    const flows = await readFile(join(userDir, "flows-4.json"), "utf8");
    const credentials = await readFile(join(userDir, "flows-4_cred.json"), "utf8");
    expect(flows).not.toContain(JANE.password);
    expect(credentials).not.toContain(JANE.password);
    const sessions = join(userDir, "icloud2mqtt", accountIdFor(JANE.appleId), "sessions");
    expect((await stat(sessions)).mode & 0o777).toBe(0o700);
    expect(red.output()).not.toContain(JANE.password);
    expect(simJane.stats(JANE.appleId).srp_signins).toBe(1);

    // Closing the flows ends within Node-RED's 15 s.
    expect(await red.stop()).toBeLessThan(15_000);
  }, 120_000);

  it.skipIf(skipChromium)(
    "Node-RED 5.0 editor: add the account, deploy, enter the code in the dialog, status turns green",
    async () => {
      const red = await startNodeRed({
        runtime: "node-red",
        userDir,
        settings: { icloudAccountEndpoint: simJohn.url, icloudAccountGraceMs: 1_000 },
      });
      const browser: Browser = await chromium.launch({
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
      onCleanup(() => browser.close());
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(red.url);

      // Add a device node from the palette, then its account from the node's dialog.
      const paletteNode = page.locator('.red-ui-palette-node[data-palette-type="icloud-device"]');
      await paletteNode.waitFor({ timeout: 30_000 });
      await paletteNode.dragTo(page.locator("#red-ui-workspace-chart"), { targetPosition: { x: 300, y: 200 } });
      await page.locator("#red-ui-workspace-chart .red-ui-flow-node").first().dblclick();
      // Node-RED 5 has an add button beside the account list; 4.x a lookup button.
      await page.locator("#node-input-btn-account-add, #node-input-lookup-account").first().click();
      await page.locator("#node-config-input-username").fill(JOHN.appleId);
      await page.locator("#node-config-input-password").fill(JOHN.password);
      await page.locator("#node-config-dialog-ok").click();
      await page.locator("#node-dialog-ok").click();
      await page.locator("#red-ui-header-button-deploy").click();

      // The runtime pushes "code needed"; the notification opens the account's dialog.
      const notice = page.locator(".red-ui-notification", { hasText: "needs a verification code" });
      await notice.waitFor({ timeout: 30_000 });
      expect(simJohn.deviceCode(JOHN.appleId)?.code).toBe(JOHN.code);
      await notice.getByRole("button", { name: "Enter code" }).click();
      await notice.waitFor({ state: "hidden" });
      const code = page.locator("#icloud-account-code");
      await code.waitFor({ timeout: 15_000 });
      expect(await page.locator("#icloud-account-resend").textContent()).toContain("SMS to +1 (•••) •••-••58");
      await code.fill(JOHN.code);
      await page.locator("#icloud-account-submit").click();
      await expect
        .poll(() => page.locator("#icloud-account-feedback").textContent(), { timeout: 30_000 })
        .toBe("Code accepted.");
      await expect
        .poll(() => page.locator("#icloud-account-state").getAttribute("data-state"), { timeout: 30_000 })
        .toBe("ready");
      await page.locator("#node-config-dialog-cancel").click();

      const status = page.locator("#red-ui-workspace-chart .red-ui-flow-node-status-label").first();
      await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("2 devices");
      expect(await page.locator("#red-ui-workspace-chart .red-ui-flow-node-status-dot-green").count()).toBeGreaterThan(
        0,
      );
      expect(simJohn.stats(JOHN.appleId).srp_signins).toBe(1);
      expect(errors).toEqual([]);
      expect(await red.stop()).toBeLessThan(15_000);
    },
    120_000,
  );
});
