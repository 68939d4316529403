import type { Logger } from "../logger.ts";
import type { Route } from "./router.ts";

/** The simulator's clock: real time plus an offset that tests move forward. */
export interface SimClock {
  now(): number;
  advance(ms: number): void;
}

/**
 * What service modules (Find My, Photos, call history) get from the simulator core.
 * `account` values are whatever the core keeps per account; services keep their own
 * state keyed by `dsid`.
 */
export interface SimServiceContext {
  clock: SimClock;
  /** Origin of the simulator, e.g. `http://127.0.0.1:41234`; webservice and download URLs point here. */
  origin(): string;
  log: Logger;
  /**
   * Checks the iCloud web session of a service request (X-APPLE-WEBAUTH-* cookies and the `dsid`
   * query parameter). Returns the account's dsid and scenario entry, or undefined when the web
   * session is missing or expired (the service then answers as Apple does: 421, 450 or 401).
   */
  authenticate(req: import("./router.ts").SimRequest): SimServiceAccount | undefined;
  /** All accounts of the scenario, for services that pre-build state. */
  accounts(): readonly SimServiceAccount[];
  /**
   * Adds entries to `webservices` in accountLogin/validate answers (e.g. `contacts`, `calendar`), so a
   * service module brings its own base URL with it. Called once when the module is created; the
   * provider answers for one account (an empty object advertises nothing). Present in the simulator
   * core; stub contexts in route-level tests may leave it out.
   */
  advertise?(provider: WebserviceProvider): void;
}

/** The `webservices` entries one service adds for an account, e.g. `{ contacts: { url, status: "active" } }`. */
export type WebserviceProvider = (account: SimServiceAccount, origin: string) => Record<string, unknown>;

export interface SimServiceAccount {
  dsid: string;
  appleId: string;
  /** True when "Access iCloud Data on the Web" is off (CloudKit answers ACCESS_DENIED). */
  webAccessDisabled: boolean;
  /**
   * The account's raw scenario sections for services (`findmy`, `photos`, `calls`, `contacts`, …: every
   * key of the scenario account that is not one of the core's), parsed by each service with its own zod schema.
   */
  services: Readonly<Record<string, unknown>>;
}

export type ServiceRoutesFactory = (ctx: SimServiceContext) => Route[];
