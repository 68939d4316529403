/**
 * The flows in examples/ (the palette manager's "Import > Examples"): they use every node of the
 * package (the Flow Library's N02 check), and they start in a real Node-RED runtime with the settings
 * they carry (an account without an Apple ID says so instead of failing).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enginePool, NODES } from "./support/nodes.ts";
import { type FlowNode, type RedRuntime, startRuntime } from "./support/red-runtime.ts";
import { cleanUp, onCleanup, tempDir, until } from "./support/world.ts";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const OURS = /^icloud-/;

async function examples(): Promise<Array<{ file: string; flow: FlowNode[] }>> {
  const dir = join(PACKAGE, "examples");
  const files = (await readdir(dir)).filter((file) => file.endsWith(".json"));
  return Promise.all(
    files.map(async (file) => ({ file, flow: JSON.parse(await readFile(join(dir, file), "utf8")) as FlowNode[] })),
  );
}

describe("examples", () => {
  let red: RedRuntime;
  beforeAll(async () => {
    red = await startRuntime("node-red");
    onCleanup(async () => {
      await red.unload().catch(() => {});
      await enginePool.stopAll();
      await red.stop();
    });
    red.settings({ userDir: await tempDir("i2m-node-red-examples-") });
  }, 60_000);
  afterAll(cleanUp);

  it("use every node the package registers", async () => {
    const manifest = JSON.parse(await readFile(join(PACKAGE, "package.json"), "utf8")) as {
      "node-red": { nodes: Record<string, string> };
    };
    const used = new Set((await examples()).flatMap(({ flow }) => flow.map((node) => node.type)));
    const types = Object.keys(manifest["node-red"].nodes);
    expect(types.sort()).toEqual(["icloud-account", "icloud-action", "icloud-device", "icloud-events", "icloud-mfa"]);
    expect(types.filter((type) => !used.has(type))).toEqual([]);
  });

  it("start in Node-RED: every node of the package is created from the example's settings", async () => {
    for (const { file, flow } of await examples()) {
      // Core nodes other than catch become test sinks; the package's nodes stay as they are.
      const loaded = flow.map((node) =>
        OURS.test(node.type) || ["tab", "catch"].includes(node.type) ? node : { ...node, type: "helper" },
      );
      await red.load(NODES, loaded);
      for (const node of flow.filter((n) => OURS.test(n.type) && n.type !== "icloud-account")) {
        await until(() => red.statuses(node.id).length > 0, `${file}: a status from ${node.id}`);
        expect(red.statuses(node.id).at(-1), `${file}: ${node.type} ${node.id}`).toEqual({
          fill: "red",
          shape: "ring",
          text: "no Apple ID in the account's settings",
        });
      }
      await red.unload();
    }
  });
});
