import { createConnection, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseScenario } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { account, until } from "../support/harness.ts";
import { echoService, openSession } from "../support/simulator.ts";

/** A TCP relay in front of the simulator that counts the client's connections. */
async function countingRelay() {
  let target = 0;
  let opened = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    opened += 1;
    open.add(client);
    const upstream = createConnection({ host: "127.0.0.1", port: target });
    client.pipe(upstream).pipe(client);
    const end = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (p: number) => {
      target = p;
    },
    /** Connections the client opened so far, and how many are open now. */
    opened: () => opened,
    open: () => open.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let sim: SimulatorHandle | undefined;
let relay: Awaited<ReturnType<typeof countingRelay>> | undefined;
afterEach(async () => {
  await sim?.close();
  await relay?.close();
});

describe("a session's connections", () => {
  it("are its own: reused between its requests, and closed by close() (no keep-alive socket outlives it)", async () => {
    relay = await countingRelay();
    sim = await startSimulator({
      scenario: parseScenario({
        accounts: [
          account("a@example.com", { mfa: { kind: "none" } }),
          account("b@example.com", { mfa: { kind: "none" } }),
        ],
      }),
      port: 0,
      publicOrigin: relay.url,
      services: [echoService],
    });
    relay.setTarget(Number(new URL(sim.address).port));
    const a = await openSession(sim, "a@example.com");
    const b = await openSession(sim, "b@example.com");
    expect(await a.signIn()).toMatchObject({ state: "active" });
    expect(await b.signIn()).toMatchObject({ state: "active" });

    // Sequential requests of one session go over the connections it keeps open (undici may open a
    // second one when a request leaves before the last one's socket was marked free).
    const before = relay.opened();
    for (let i = 0; i < 10; i++) expect((await a.request("findme", "/test/echo")).status).toBe(200);
    expect(relay.opened() - before).toBeLessThanOrEqual(1);
    for (let i = 0; i < 3; i++) expect((await b.request("findme", "/test/echo")).status).toBe(200);
    const opened = relay.opened();
    const both = relay.open();
    expect(both).toBe(opened);

    // Closing one session closes its connections, not the other's.
    await a.close();
    await until(() => (relay?.open() ?? 0) < both && relay?.open() !== 0, "a's connections to close", 1_000);
    const left = relay.open();
    expect((await b.request("findme", "/test/echo")).status).toBe(200);
    expect(relay.open()).toBe(left);
    expect(relay.opened()).toBe(opened);
    await b.close();
    await until(() => relay?.open() === 0, "every connection to close", 1_000);
  });
});
