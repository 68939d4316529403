import type { z } from "zod";
import type { ServiceTransport } from "../../icloud/service-transport.ts";
import type { Logger } from "../../logger.ts";

/**
 * The contract of one data type (Find My, photos, call history, …). A service module holds
 * everything the data type needs — its config section, its persisted state, its polls, its events,
 * its commands, and (loaded on demand by the front-end that needs them) its MQTT and HTTP views —
 * and is registered with one line in `registry.ts`. The engine, the MQTT front-end and the HTTP
 * server iterate that list; none of them names a data type.
 */

/** An event map: event name → one payload object that always names its account. */
export type ServiceEvents = { [event: string]: [{ account: string }] };

/** The payload of `event` without `account` (the context adds it). */
export type EventPayload<E extends ServiceEvents, K extends keyof E> = Omit<E[K][0], "account">;

/** What a service gets from the engine when its account starts. */
export interface ServiceContext<Config, State, Events extends ServiceEvents> {
  /** The account id (configuration `accounts[].id`). */
  readonly account: string;
  readonly config: Config;
  /** The service's part of the account's persisted state, already parsed; mutate it, then `save()`. */
  readonly state: State;
  /** Authenticated requests to iCloud web services (re-signs in by itself when the session ends). */
  readonly transport: ServiceTransport;
  /** The engine's state folder (downloads index, …). */
  readonly stateDir: string;
  readonly log: Logger;
  emit<K extends keyof Events & string>(event: K, payload: EventPayload<Events, K>): void;
  /** Persists the account's state (atomically; saves of one account land in call order). */
  save(): Promise<void>;
  /** Small binary files kept beside the engine state (e.g. the newest photo's thumbnail). */
  loadFile(name: string): Promise<Buffer | null>;
  saveFile(name: string, data: Buffer): Promise<void>;
  /**
   * Reports the progress of a long job run in the account state (`progressMsg`, `progress` 0–100),
   * as icloud-photos-sync shows its sync; ignored when no job of the account is running.
   */
  progress(message: string, percent: number | null): void;
  /** Aborted when the account stops: long job runs end early (and resume on the next start). */
  readonly signal: AbortSignal;
}

/** A schedule that is valid but risky when it runs more often than `minimumMs`. */
export interface ScheduleCheck {
  key: string;
  schedule: string | number;
  minimumMs: number;
  /** What goes wrong, for the warning. */
  risk: string;
}

/** A scheduled poll of a service. */
export interface ServiceJob {
  /** Unique within the account; the first job of a service is named after the service and is what `sync` runs. */
  readonly name: string;
  /** An interval (`5m`, seconds) or a cron expression, as in the configuration. */
  readonly schedule: string | number;
  run(): Promise<void>;
}

/** A running service of one account. */
export interface ServiceRuntime<Snapshot> {
  /** Jobs the engine schedules; they only run while the iCloud session is active. */
  readonly jobs: readonly ServiceJob[];
  /** The last values the service knows, for front-ends that start late or restart. */
  snapshot(): Snapshot;
  /** Called once when the account stops. */
  close?(): Promise<void> | void;
  /**
   * A person asked for a sync (the `sync` command: MQTT, `POST /api/sync`, …), as opposed to a
   * scheduled run; called right before the service's first job runs for it. Lets a service do the
   * thorough pass users expect from a button (e.g. check every downloaded file).
   */
  syncRequested?(): void;
}

/** A command a service offers to every front-end (MQTT, HTTP, Node-RED, Homebridge). */
export interface ServiceCommand<Schema extends z.ZodType, Runtime, Result> {
  /** Validates the input; `account` is added by the engine. */
  readonly schema: Schema;
  /** Runs with the account's runtime; the engine has checked that the service is enabled and signed in. */
  run(runtime: Runtime, input: z.output<Schema>): Promise<Result>;
}

/**
 * A command-line command a service adds: `icloud2mqtt <service key> <name> --account ID [--config FILE] …`.
 * The CLI parses the options, opens the account's stored session and hands the implementation (a
 * module of the service's folder, loaded only when the command runs) what it needs; see
 * `src/cli/service-commands.ts` for the contract the loaded `run` follows.
 */
export interface ServiceCliCommand {
  readonly name: string;
  readonly description: string;
  /** Commander-style flags and their help: `["--since <date>", "only photos taken on or after DATE"]`. */
  readonly options: readonly (readonly [flags: string, description: string])[];
  /** Loads the implementation: resolves to a `CliCommandRun` (typed by the CLI front-end). */
  load(): Promise<unknown>;
}

/**
 * How the MQTT front-end, the HTTP server and the ricloud-compatible API present a service; each is
 * loaded only by the front-end that needs it.
 */
export interface ServiceViews<MqttView, HttpView, RicloudView> {
  mqtt(): Promise<MqttView>;
  http(): Promise<HttpView>;
  /** The data type's ricloud items and files (`src/ricloud-api/service-view.ts`). */
  ricloud(): Promise<RicloudView>;
}

export interface ServiceModule<
  Key extends string,
  DataType extends string,
  ConfigSchema extends z.ZodType,
  StateSchema extends z.ZodType,
  Snapshot,
  Events extends ServiceEvents,
  Runtime extends ServiceRuntime<Snapshot>,
  Commands extends Record<string, ServiceCommand<z.ZodType, Runtime, unknown>>,
  MqttView,
  HttpView,
  RicloudView = unknown,
> {
  /** Folder, config key, state key and topic segment: `findmy`, `photos`, `calls`. */
  readonly key: Key;
  /** ricloud's data type name, used by `sync` and the APIs: `fmip.devices`, `icpl.photos`, `callkit.calls`. */
  readonly dataType: DataType;
  /** For people: "Find My". */
  readonly title: string;
  /** The config section under `accounts[].<key>`, with defaults; `config.parse({})` must succeed. */
  readonly config: ConfigSchema;
  /** The persisted state, with defaults; `state.parse({})` is the empty state. */
  readonly state: StateSchema;
  /** Reads the service's state from a state file written before services had their own sections. */
  legacyState?(root: Record<string, unknown>): unknown;
  /** Whether this account uses the service (usually `config.enabled`). */
  enabled(config: z.output<ConfigSchema>): boolean;
  /** Schedules that, when shorter than `minimumMs`, get a configuration warning (`key` is relative to the section). */
  scheduleChecks?(config: z.output<ConfigSchema>): ScheduleCheck[];
  /** Keys (relative to the section) holding file paths, resolved against the configuration file's folder. */
  readonly pathKeys?: readonly (readonly string[])[];
  /** Starts the service for one account (nothing runs until the engine schedules its jobs). */
  start(context: ServiceContext<z.output<ConfigSchema>, z.output<StateSchema>, Events>): Promise<Runtime>;
  /** The snapshot of a disabled service. */
  emptySnapshot(): Snapshot;
  readonly commands: Commands;
  readonly views: ServiceViews<MqttView, HttpView, RicloudView>;
  /** Command-line commands of the service (`icloud2mqtt <key> <name>`). */
  readonly cli?: readonly ServiceCliCommand[];
  /** Type-level only: the events this service emits (see `eventsOf`). */
  readonly events?: Events;
}

/** A phantom value that carries an event map's type into `defineService` (never read at run time). */
export function eventsOf<Events extends ServiceEvents>(): Events | undefined {
  return undefined;
}

/** Identity with inference: `export const findmy = defineService({ … })`. */
export function defineService<
  const Key extends string,
  const DataType extends string,
  ConfigSchema extends z.ZodType,
  StateSchema extends z.ZodType,
  Snapshot,
  Events extends ServiceEvents,
  Runtime extends ServiceRuntime<Snapshot>,
  Commands extends Record<string, ServiceCommand<z.ZodType, Runtime, unknown>>,
  MqttView,
  HttpView,
  RicloudView,
>(
  module: ServiceModule<
    Key,
    DataType,
    ConfigSchema,
    StateSchema,
    Snapshot,
    Events,
    Runtime,
    Commands,
    MqttView,
    HttpView,
    RicloudView
  >,
): ServiceModule<
  Key,
  DataType,
  ConfigSchema,
  StateSchema,
  Snapshot,
  Events,
  Runtime,
  Commands,
  MqttView,
  HttpView,
  RicloudView
> {
  return module;
}
