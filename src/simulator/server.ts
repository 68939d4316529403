import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { generate } from "selfsigned";
import { type Logger, silentLogger } from "../logger.ts";
import { adminRoutes, type RequestRecord } from "./admin-routes.ts";
import { createSimClock } from "./clock.ts";
import type { ServiceRoutesFactory, SimClock } from "./context.ts";
import type { CoreEnv } from "./core-env.ts";
import type { FaultSpec } from "./fault-spec.ts";
import { type ActiveFault, FaultStore } from "./faults.ts";
import { type Dispatcher, dispatch } from "./http-dispatch.ts";
import { idmsaMfaRoutes } from "./idmsa-mfa-routes.ts";
import { idmsaSigninRoutes } from "./idmsa-signin-routes.ts";
import { loadScenarioFile, type Scenario } from "./scenario.ts";
import { createServiceContext } from "./service-context.ts";
import { setup2svRoutes } from "./setup-2sv-routes.ts";
import { setupRoutes } from "./setup-routes.ts";
import type { AccountStats, ShownCode } from "./sim-accounts.ts";
import { World } from "./world.ts";

export interface SimulatorOptions {
  /** A parsed scenario, or the path of a YAML/JSON scenario file. */
  scenario: Scenario | string;
  port?: number;
  host?: string;
  /**
   * Origin clients should use when it differs from the listening address (e.g. listening on
   * 0.0.0.0 behind a host name); webservice URLs point there. Defaults to the listening origin.
   */
  publicOrigin?: string;
  /** HTTPS with a fresh self-signed certificate (see `SimulatorHandle.tls`). */
  tls?: boolean;
  logger?: Logger;
  services?: ServiceRoutesFactory[];
}

export interface SimulatorHandle {
  /** Origin, e.g. `http://127.0.0.1:41234`; every Apple path (idmsa, setup, services) lives here. */
  url: string;
  /** Where the server listens (differs from `url` when `publicOrigin` names another host). */
  address: string;
  world: World;
  clock: SimClock;
  faults: { add(spec: FaultSpec): ActiveFault; clear(): void; list(): ActiveFault[] };
  stats(appleId: string): AccountStats;
  /** What the account's device/phone shows right now (latest code sent), if any. */
  deviceCode(appleId: string): ShownCode | undefined;
  addServices(factories: readonly ServiceRoutesFactory[]): void;
  /** Handled Apple requests (method, path, route id, status); no bodies or headers. */
  requests(): RequestRecord[];
  /** Every Apple route id this simulator answers (core and service modules), for fault matrices. */
  routeIds(): string[];
  /** With `tls: true`: the self-signed certificate to trust (it is its own CA). */
  tls?: { cert: string; ca: string };
  close(): Promise<void>;
}

async function selfSignedCertificate(host: string): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: "commonName", value: "icloud2mqtt-simulator" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
          ...(/^[\d.]+$|:/.test(host) ? [{ type: 7 as const, ip: host }] : [{ type: 2 as const, value: host }]),
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

export async function startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
  const scenario = typeof options.scenario === "string" ? await loadScenarioFile(options.scenario) : options.scenario;
  const host = options.host ?? "127.0.0.1";
  const log = options.logger ?? silentLogger;
  const clock = createSimClock();
  const world = new World(scenario, clock, log);
  const faults = new FaultStore();
  for (const spec of scenario.faults) faults.add(spec);
  let origin = "";
  const env: CoreEnv = { world, scenario, log, tls: options.tls === true, origin: () => origin, webservices: [] };
  const records: RequestRecord[] = [];
  const routes = [...idmsaSigninRoutes(env), ...idmsaMfaRoutes(env), ...setupRoutes(env), ...setup2svRoutes(env)];
  const serviceContext = createServiceContext(env);
  const addServices = (factories: readonly ServiceRoutesFactory[]): void => {
    for (const factory of factories) routes.push(...factory(serviceContext));
  };
  addServices(options.services ?? []);
  const dispatcher: Dispatcher = {
    admin: adminRoutes(env, faults, () => records.map((entry) => ({ ...entry }))),
    routes,
    faults,
    records,
    log,
    origin: () => origin,
    now: () => clock.now(),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    dispatch(dispatcher, req, res).catch((error: unknown) => {
      log.warn("simulator request failed", { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const certificate = options.tls ? await selfSignedCertificate(host) : undefined;
  const server: Server = certificate ? createHttpsServer(certificate, onRequest) : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const address = `${certificate ? "https" : "http"}://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  origin = options.publicOrigin?.replace(/\/+$/, "") ?? address;
  log.info(`iCloud simulator listening on ${origin}`, { accounts: scenario.accounts.length });

  const account = (appleId: string) => {
    const state = world.accounts.byAppleId(appleId);
    if (!state) throw new Error(`no account ${appleId} in the scenario`);
    return state;
  };
  return {
    url: origin,
    address,
    world,
    clock,
    faults: { add: (spec) => faults.add(spec), clear: () => faults.clear(), list: () => faults.list() },
    stats: (appleId) => structuredClone(account(appleId).stats),
    deviceCode: (appleId) => {
      const shown = account(appleId).lastShown;
      return shown ? { ...shown } : undefined;
    },
    addServices,
    requests: () => records.map((entry) => ({ ...entry })),
    // Apple's routes only: service modules' control routes under /__sim/ are not.
    routeIds: () => [
      ...new Set(
        routes.filter((route) => typeof route.path !== "string" || !route.path.startsWith("/__sim/")).map((r) => r.id),
      ),
    ],
    ...(certificate ? { tls: { cert: certificate.cert, ca: certificate.cert } } : {}),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
