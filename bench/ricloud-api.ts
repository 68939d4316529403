/**
 * ricloud-compatible API benchmark (not a timed test): prints one JSON document on stdout.
 *
 * - data_poll: an `icpl.photos` data poll over a 5000-item library, created with Ricloud-Await and
 *   read back (ms, result size, CloudKit requests the simulator answered).
 * - files_poll: a `files` poll for 20 originals of 2 MB (ms, MB/s from Apple's URLs into the result
 *   storage, through the engine's file cache).
 * - listing: GET /polls?limit=100 and GET /results/<id> with 500 polls stored (median and p95 ms of
 *   200 requests each, keys checked on every request).
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { RicloudApiSchema } from "../src/config/ricloud-api-schema.ts";
import { Engine } from "../src/engine/engine.ts";
import { KeyStore } from "../src/ricloud-api/key-store.ts";
import { passwordVerifier } from "../src/ricloud-api/passwords.ts";
import { RicloudApiServer } from "../src/ricloud-api/server.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";

const APPLE_ID = "bench-ricloud@example.com";
const PASSWORD = "bench ricloud password";
const LIBRARY = 5000;
const FILES = 20;
const FILE_SIZE = 2_000_000;
const POLLS = 500;

const sim = await startSimulator({
  scenario: parseScenario({
    accounts: [
      {
        apple_id: APPLE_ID,
        password: PASSWORD,
        srp: { protocol: "s2k", iterations: 1000 },
        mfa: { kind: "none" },
        photos: { count: LIBRARY, seed: 3, original_size: { min: FILE_SIZE, max: FILE_SIZE }, video_ratio: 0 },
      },
    ],
  }),
  port: 0,
  services: [...SIMULATOR_SERVICES],
});
const dir = await mkdtemp(path.join(tmpdir(), "bench-ricloud-"));
const engine = new Engine({
  accounts: [
    {
      id: "bench",
      username: APPLE_ID,
      password: PASSWORD,
      endpoint: sim.url,
      findmy: { enabled: false },
      calls: { enabled: false },
    },
  ],
  stateDir: dir,
});
const server = new RicloudApiServer({
  api: engine,
  config: RicloudApiSchema.parse({ enabled: true, port: 0, polls_per_minute: 600 }),
  stateDir: dir,
  verifyPassword: passwordVerifier([{ id: "bench", password: PASSWORD }]),
});
await engine.load();
const { url } = await server.start();
const { token } = await new KeyStore(dir).create("bench");
await engine.start();

// biome-ignore lint/suspicious/noExplicitAny: benchmark payloads
async function call(method: string, route: string, body?: unknown, wait = false): Promise<any> {
  const response = await fetch(new URL(route.slice(1), url), {
    method,
    headers: { authorization: `Token ${token}`, ...(wait ? { "ricloud-await": "10" } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return response.json();
}

// biome-ignore lint/suspicious/noExplicitAny: benchmark payloads
async function settled(poll: any): Promise<any> {
  let current = poll;
  while (current.state !== "completed") {
    await new Promise((resolve) => setTimeout(resolve, 20));
    current = await call("GET", `/polls/${poll.id}`);
  }
  return current;
}

const photoRequests = () => sim.requests().filter((r) => r.route?.startsWith("photos.") === true).length;
const user = await call("POST", "/users", { identifier: "bench" });
const session = await call(
  "POST",
  "/sessions",
  { source: { user: user.id, type: "icloud.account", identifier: APPLE_ID }, payload: { password: PASSWORD } },
  true,
);
if (session.state !== "active") throw new Error(`session ${session.state} ${session.error}`);
while (engine.snapshot("bench").state.services.photos.last_sync === null) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

let requests = photoRequests();
let start = performance.now();
const data = await settled(
  await call("POST", "/polls", { session: session.id, payload: { data_types: ["icpl.photos"] } }, true),
);
const dataPoll = {
  items: LIBRARY,
  listed: 1000,
  ms: Math.round(performance.now() - start),
  result_bytes: data.results[0]?.size,
  cloudkit_requests: photoRequests() - requests,
};

const assets = JSON.parse(
  await (
    await fetch(new URL(`results/${data.results[0].id}/download`, url), {
      headers: { authorization: `Token ${token}` },
    })
  ).text(),
).data as Array<{ files: Array<{ id: string; role: string }> }>;
const ids = assets.slice(0, FILES).map((asset) => asset.files.find((file) => file.role === "original")?.id);
requests = photoRequests();
start = performance.now();
const files = await settled(await call("POST", "/polls", { session: session.id, payload: { files: ids } }, true));
const filesMs = performance.now() - start;
const bytes = files.results.reduce((sum: number, result: { size: number }) => sum + result.size, 0);
const filesPoll = {
  files: files.results.length,
  failed: files.tasks_failed.length,
  mb: Math.round(bytes / 1e5) / 10,
  ms: Math.round(filesMs),
  mb_per_s: Math.round((bytes / 1e6 / (filesMs / 1000)) * 10) / 10,
  cloudkit_requests: photoRequests() - requests,
};

let last: { id: string; state: string } | undefined;
for (let i = 0; i < POLLS; i++)
  last = await call("POST", "/polls", { session: session.id, payload: { info_types: ["*"] } });
await settled(last);
await new Promise((resolve) => setTimeout(resolve, 500)); // the last saves of the state file
const latency = async (route: string) => {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await call("GET", route);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round((times[Math.floor(q * (times.length - 1))] ?? 0) * 100) / 100;
  return { median_ms: at(0.5), p95_ms: at(0.95) };
};
const listing = {
  polls_stored: POLLS + 2,
  state_file_kb: Math.round((await stat(path.join(dir, "ricloud", "api.json"))).size / 1024),
  list_100_polls: await latency("/polls?limit=100"),
  retrieve_result: await latency(`/results/${data.results[0].id}`),
};

await server.stop();
await engine.stop();
await sim.close();
await rm(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ benchmark: "ricloud-api", data_poll: dataPoll, files_poll: filesPoll, listing }, null, 2)}\n`,
);
