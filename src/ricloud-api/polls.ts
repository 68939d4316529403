import { z } from "zod";
import type { EngineApi } from "../engine/api.ts";
import { EngineError, toEngineError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { fromZod, invalidParameter } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { Poll, PollPayload, Result, Session, Source, Task } from "./records.ts";
import { ORGANISATION_ID, render, renderPoll } from "./resources.ts";
import type { RicloudFilters } from "./service-view.ts";
import type { StorageRegistry } from "./storage-registry.ts";
import type { ApiStore } from "./store.ts";
import { isoNow, newId } from "./time.ts";
import type { OfferedTypes } from "./views.ts";
import { Waiters } from "./waiters.ts";

/** The account information pseudo data type (`info_types: ["*"]`, or `data_types: ["info.account"]`). */
export const INFO_TYPE = "info.account";
const INFO_TYPES = new Set(["*", "account", INFO_TYPE]);
const MAX_FILES = 100;

const FiltersSchema = z.looseObject({
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

/** One task to create: what it fetches. */
interface TaskPlan {
  type: "data" | "info" | "files";
  target: string;
}

export interface PollRunnerOptions {
  api: EngineApi;
  store: ApiStore;
  events: EventHub;
  storage: StorageRegistry;
  types: OfferedTypes;
  log: Logger;
}

/**
 * Polls and their tasks. A poll is split into tasks (one per data type, one for account info, one per
 * file), run one after the other in the background through the engine's commands; each task that
 * succeeds stores one result file (`data:<data type>` JSON holding `{"data": […]}`, or the file's
 * bytes) in the key's storage config. A poll never fails itself: it `completed` with failed tasks.
 */
export class PollRunner {
  readonly #o: PollRunnerOptions;
  readonly #waiters = new Waiters();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: PollRunnerOptions) {
    this.#o = options;
  }

  /** Polls left running by a restart are completed with their unfinished tasks failed. */
  start(): void {
    const { store } = this.#o;
    for (const poll of store.state.polls) {
      if (poll.state === "completed") continue;
      for (const id of [...poll.tasks_pending, ...poll.tasks_processing]) {
        const task = store.state.tasks.find((candidate) => candidate.id === id);
        if (task) this.#finish(poll, task, { error: "interrupted", message: "the API restarted while it ran" });
      }
      poll.state = "completed";
      poll.date_completed = isoNow();
    }
    store.changed();
  }

  /** Starts no further task and waits for the running ones. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiters.wakeAll();
    await Promise.allSettled([...this.#running]);
  }

  /** Checks the payload, records the poll and its tasks, and runs them in the background. */
  create(key: string, session: Session, source: Source, payload: PollPayload, subscription: string | null): Poll {
    const plans = this.plan(payload);
    const { store, events } = this.#o;
    const now = isoNow();
    const poll: Poll = {
      id: newId(),
      resource: "poll",
      organisation: ORGANISATION_ID,
      key,
      user: source.user,
      source: source.id,
      session: session.id,
      subscription,
      requestor: subscription === null ? "key" : "subscription",
      type: pollType(plans),
      payload,
      tasks_pending: [],
      tasks_processing: [],
      tasks_succeeded: [],
      tasks_failed: [],
      tasks_suspended: [],
      results: [],
      errors: [],
      state: "pending",
      date_created: now,
      date_started: null,
      date_completed: null,
    };
    const tasks = plans.map(
      (plan): Task => ({
        id: newId(),
        resource: "task",
        organisation: ORGANISATION_ID,
        key,
        user: source.user,
        source: source.id,
        session: session.id,
        poll: poll.id,
        type: plan.type,
        target: plan.target,
        source_type: source.type,
        state: "pending",
        results: [],
        error: null,
        message: null,
        date_created: now,
        date_started: null,
        date_completed: null,
      }),
    );
    poll.tasks_pending = tasks.map((task) => task.id);
    store.state.polls.push(poll);
    store.state.tasks.push(...tasks);
    store.changed();
    events.emit("poll", "created", this.render(poll), key);
    for (const task of tasks) events.emit("task", "created", render(task), key);
    const run = this.#run(poll, tasks, source);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return poll;
  }

  /** The tasks a payload asks for; `invalid-parameter` when it asks for something not offered. */
  plan(raw: PollPayload): TaskPlan[] {
    const plans: TaskPlan[] = [];
    const add = (plan: TaskPlan) => {
      if (!plans.some((p) => p.target === plan.target)) plans.push(plan);
    };
    for (const type of raw.info_types ?? []) {
      if (!INFO_TYPES.has(type))
        throw invalidParameter("payload.info_types", `unknown info type ${JSON.stringify(type)}`);
      add({ type: "info", target: INFO_TYPE });
    }
    for (const dataType of raw.data_types ?? []) {
      if (dataType === INFO_TYPE || this.#o.types.has(dataType)) add({ type: "data", target: dataType });
      else
        throw invalidParameter(
          "payload.data_types",
          `unknown data type ${JSON.stringify(dataType)}; offered: ${[...this.#o.types.keys(), INFO_TYPE].join(", ")}`,
        );
    }
    const files = raw.files ?? [];
    if (files.length > MAX_FILES) throw invalidParameter("payload.files", `at most ${MAX_FILES} files per poll`);
    for (const file of files) {
      if (this.#o.types.sourceOfFile(file) === undefined)
        throw invalidParameter("payload.files", `no data type serves the file id ${JSON.stringify(file.slice(0, 80))}`);
      add({ type: "files", target: file });
    }
    if (plans.length === 0) throw invalidParameter("payload", "name data_types, info_types or files");
    if (raw.filters !== undefined) {
      const filters = FiltersSchema.safeParse(raw.filters);
      if (!filters.success) throw fromZod(filters.error, "payload.filters");
    }
    return plans;
  }

  /** Resolves when the poll completed, or after `ms`. */
  async settled(poll: Poll, ms: number): Promise<void> {
    if (poll.state === "completed" || ms <= 0) return;
    await this.#waiters.wait(poll.id, ms);
  }

  render(poll: Poll): Record<string, unknown> {
    const ids = new Set(poll.results);
    const results = new Map(
      this.#o.store.state.results.filter((result) => ids.has(result.id)).map((result) => [result.id, result]),
    );
    return renderPoll(poll, results);
  }

  async #run(poll: Poll, tasks: Task[], source: Source): Promise<void> {
    const { store } = this.#o;
    poll.state = "processing";
    poll.date_started = isoNow();
    for (const task of tasks) {
      if (this.#stopped) {
        this.#finish(poll, task, { error: "interrupted", message: "the API stopped before the task ran" });
        continue;
      }
      task.state = "processing";
      task.date_started = isoNow();
      move(poll, task.id, "tasks_pending", "tasks_processing");
      store.changed();
      try {
        const results = await this.#execute(poll, task, source);
        this.#finish(poll, task, null, results);
      } catch (error) {
        const failure = toEngineError(error);
        if (failure.code === "CONFIG_INVALID" || failure.code === "STORE_FAILED")
          this.#o.log.error("poll task failed", { task: task.id, error: failure.message });
        this.#finish(poll, task, { error: failure.sessionError, message: failure.message });
      }
    }
    poll.state = "completed";
    poll.date_completed = isoNow();
    store.changed();
    this.#o.events.emit("poll", "completed", this.render(poll), poll.key);
    this.#waiters.wake(poll.id);
  }

  async #execute(poll: Poll, task: Task, source: Source): Promise<Result[]> {
    const { api, types, store } = this.#o;
    const account = source._account;
    const summary = api.accounts().find((candidate) => candidate.id === account);
    if (summary === undefined) throw new EngineError("NOT_FOUND", "the source's account is no longer configured");
    if (task.target === INFO_TYPE) {
      const state = api.snapshot(account).state;
      const item = {
        id: account,
        data_type: INFO_TYPE,
        identifier: summary.username,
        session_state: state.session.state,
        trust_expires_at: state.session.trust_expires_at,
        data_types: types.entries().flatMap(([dataType, offered]) => (summary.services[offered.key] ? [dataType] : [])),
      };
      return [await this.#storeJson(poll, task, `data:${INFO_TYPE}`, [item])];
    }
    if (task.type === "data") {
      const offered = types.get(task.target);
      if (offered === undefined) throw new EngineError("INVALID_INPUT", `unknown data type ${task.target}`);
      if (!summary.services[offered.key])
        throw new EngineError("SERVICE_NOT_AVAILABLE", `${task.target} is disabled for this account`);
      const filters = FiltersSchema.parse(poll.payload.filters ?? {});
      const wanted: RicloudFilters = {
        ...(filters.since === undefined ? {} : { since: filters.since }),
        ...(filters.until === undefined ? {} : { until: filters.until }),
      };
      const items = await offered.view.items(api, account, wanted);
      const files = offered.view.files;
      if (files !== undefined) {
        const date = isoNow();
        for (const item of items) {
          for (const { id, ref } of files.refs(item)) {
            delete store.state.files[id]; // re-inserted: the newest references are pruned last
            store.state.files[id] = { data_type: task.target, account, ref, date };
          }
        }
      }
      return [await this.#storeJson(poll, task, `data:${task.target}`, items)];
    }
    const ref = store.state.files[task.target];
    if (ref === undefined || ref.account !== account)
      throw new EngineError("NOT_FOUND", "unknown file id: poll the data type that lists it first");
    const source_ = types.get(ref.data_type)?.view.files;
    if (source_ === undefined) throw new EngineError("NOT_FOUND", "the data type of this file offers no files");
    const file = await source_.fetch(api, account, task.target, ref.ref);
    const { backend, config } = this.#o.storage.forKey(poll.key);
    const result = this.#newResult(poll, task, task.target, "file", config);
    const object = `${poll.id}/${result.id}.${file.extension}`;
    const stored = "path" in file ? await backend.putFile(object, file.path) : await backend.put(object, file.data);
    result._object = `${poll.id}/${result.id}.${file.extension}`;
    return [this.#addResult(result, stored)];
  }

  async #storeJson(poll: Poll, task: Task, identifier: string, items: unknown[]): Promise<Result> {
    const { backend, config } = this.#o.storage.forKey(poll.key);
    const result = this.#newResult(poll, task, identifier, "json", config);
    result._object = `${poll.id}/${result.id}.json`;
    const stored = await backend.put(result._object, Buffer.from(`${JSON.stringify({ data: items })}\n`));
    return this.#addResult(result, stored);
  }

  #newResult(poll: Poll, task: Task, identifier: string, type: Result["type"], storage: string): Result {
    return {
      id: newId(),
      resource: "result",
      organisation: ORGANISATION_ID,
      key: poll.key,
      poll: poll.id,
      task: task.id,
      identifier,
      type,
      url: "",
      checksum: "",
      size: 0,
      state: "available",
      date_created: isoNow(),
      date_consumed: null,
      date_deleted: null,
      _storage_config: storage,
      _object: "",
    };
  }

  #addResult(result: Result, stored: { url: string; size: number; checksum: string }): Result {
    Object.assign(result, stored);
    this.#o.store.state.results.push(result);
    this.#o.store.changed();
    return result;
  }

  #finish(poll: Poll, task: Task, failure: { error: string; message: string } | null, results: Result[] = []): void {
    task.state = failure === null ? "succeeded" : "failed";
    task.error = failure?.error ?? null;
    task.message = failure?.message ?? null;
    task.results = results.map((result) => result.id);
    task.date_completed = isoNow();
    poll.results.push(...task.results);
    for (const list of ["tasks_pending", "tasks_processing"] as const) {
      poll[list] = poll[list].filter((id) => id !== task.id);
    }
    if (failure === null) poll.tasks_succeeded.push(task.id);
    else {
      poll.tasks_failed.push(task.id);
      poll.errors.push({ task: task.id, ...failure });
    }
    this.#o.store.changed();
    this.#o.events.emit("task", failure === null ? "succeeded" : "failed", render(task), task.key);
  }
}

function move(poll: Poll, id: string, from: "tasks_pending", to: "tasks_processing"): void {
  poll[from] = poll[from].filter((candidate) => candidate !== id);
  poll[to].push(id);
}

function pollType(plans: readonly TaskPlan[]): Poll["type"] {
  const kinds = new Set(plans.map((plan) => plan.type));
  if (kinds.size > 1) return "mixed";
  return [...kinds][0] ?? "data";
}
