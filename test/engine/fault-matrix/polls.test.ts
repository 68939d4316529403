import { cp, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DataType } from "../../../src/engine/commands.ts";
import { Engine } from "../../../src/engine/engine.ts";
import { SERVICES } from "../../../src/engine/services/registry.ts";
import type { ServiceKey } from "../../../src/engine/services/types.ts";
import { isEngineError } from "../../../src/errors.ts";
import { calendarProbe } from "../../../src/simulator/calendar/index.ts";
import { callsProbe } from "../../../src/simulator/calls/index.ts";
import { contactsProbe } from "../../../src/simulator/contacts/index.ts";
import { findMyProbe } from "../../../src/simulator/findmy/index.ts";
import { notesProbe } from "../../../src/simulator/notes/index.ts";
import { findPhotosSimulator } from "../../../src/simulator/photos/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { steadyDevice } from "../../support/engine-harness.ts";
import {
  type CellResult,
  checkErrors,
  checkFaultReached,
  FAULTS,
  faultSpec,
  MODES,
  matrixHttp,
  matrixReport,
  RETRY_AFTER_S,
  requestMark,
  routesSince,
  UnhandledWatch,
} from "../../support/fault-matrix.ts";
import { cleanUp, sleep, startScenario, tempDir } from "../../support/harness.ts";

/**
 * The fault matrix, data half: every route that a Find My poll, a photos change check, a photo
 * download (and its retry), a call-history poll, a contacts poll (with its token and after Apple
 * refused it), a calendar poll, a notes poll, the first polls after a restart, the Find My commands
 * and the contacts, calendar and notes listing and file commands request × every fault × once/repeated. One simulator; one running engine per kind of
 * poll (a fresh one per cell for the first polls). Each cell gives the poll something new to find,
 * runs it with the fault injected, clears the fault and runs it again. Invariants per cell: no
 * unhandled rejection; a failure shows in the service's status and prevError (or the command's
 * error) with a code that describes the fault; no sync token is stored past a failed page; Apple
 * processes at most one full sign-in; the run after the fault succeeds, and nothing new is lost,
 * announced twice, written twice or written corrupt; a Find My action is never performed twice.
 */

const PASSWORD = "fault-matrix-password";
const SRP = { protocol: "s2k", iterations: 1000 } as const;
const STEADY = (name: string, model: string) =>
  steadyDevice(name, model, "iPhone", 0.8, { latitude: 51.5, longitude: -0.12, age: "2m" });
const HOUR = "1h";
/** Every service off (the cells turn on the ones they test), whatever the registry holds. */
const ALL_OFF = Object.fromEntries(SERVICES.map(({ key }) => [key, { enabled: false }]));

let sim: SimulatorHandle;
const watch = new UnhandledWatch();
const results: CellResult[] = [];
const covered = new Set<string>();

/** What one run of a phase showed. */
interface Outcome {
  /** Failure codes the account (prevError) or a refused command showed. */
  errors: string[];
  problems: string[];
}

interface Phase {
  phase: string;
  appleId: string;
  /** Back-off waits the engine asked for during the cell (recorded, not slept). */
  sleeps: number[];
  /** Per cell, before the fault: gives the run something new to find (or starts a fresh engine). */
  before(): Promise<void>;
  /** The run under test; the fault is active. */
  run(): Promise<Outcome>;
  /** After the fault was cleared: problems left (the run must now succeed). */
  recover(): Promise<string[]>;
  /** Nothing lost, announced twice, written twice or corrupt (after `recover`). */
  verify(problems: string[]): Promise<void>;
  /** The persisted sync tokens, compared around a failed run. */
  tokens(): Promise<string>;
  /** Failure codes that come after the feed was read (the tokens may advance). */
  afterFeed?: readonly string[];
  after?(): Promise<void>;
  close(): Promise<void>;
}

/** Small files: every cell downloads one. */
const SMALL = { original_size: { min: 20_000, max: 60_000 }, video_ratio: 0, live_photo_ratio: 0 };

function account(appleId: string, services: Record<string, unknown>) {
  return { apple_id: appleId, password: PASSWORD, srp: SRP, mfa: { kind: "none" }, ...services };
}

const FINDMY = {
  first_name: "Jane",
  devices: [STEADY("Jane's iPhone", "iPhone16,1"), STEADY("Jane's iPad", "iPad13,16")],
};
const scenario = parseScenario({
  accounts: [
    account("findmy@matrix.example", { findmy: FINDMY }),
    account("photos@matrix.example", { photos: { count: 3, seed: 4, ...SMALL } }),
    account("download@matrix.example", { photos: { count: 2, seed: 5, ...SMALL } }),
    account("retry@matrix.example", { photos: { count: 2, seed: 7, ...SMALL } }),
    account("calls@matrix.example", { calls: { generate: { count: 2, seed: 6 } } }),
    account("contacts@matrix.example", { contacts: { generate: { count: 4, seed: 11 } } }),
    account("contacts-reread@matrix.example", { contacts: { generate: { count: 4, seed: 12 } } }),
    account("calendar@matrix.example", { calendar: { time_zone: "UTC", generate: {} } }),
    account("notes@matrix.example", { notes: { generate: { count: 3, seed: 13 } } }),
    account("personal@matrix.example", {
      contacts: { people: [{ first_name: "Pat", last_name: "Photo", photo: true }], generate: { count: 3, seed: 14 } },
      calendar: { time_zone: "UTC", generate: {} },
      notes: {
        notes: [{ title: "Receipt", body: "scanned", attachments: [{ filename: "receipt.jpg", uti: "public.jpeg" }] }],
        generate: { count: 2, seed: 15 },
      },
    }),
    account("restart@matrix.example", {
      findmy: FINDMY,
      photos: { count: 3, seed: 8, ...SMALL },
      calls: { generate: { count: 2, seed: 9 } },
    }),
  ],
});

function newEngine(appleId: string, id: string, services: Record<string, unknown>, dir: string, sleeps: number[]) {
  return new Engine({
    accounts: [{ id, username: appleId, password: PASSWORD, endpoint: sim.url, ...ALL_OFF, ...services }],
    stateDir: dir,
    retryDelayMs: 20,
    http: matrixHttp(sleeps),
  });
}

/** Waits until every enabled service of the account finished (or failed) its first poll. */
async function firstPolls(engine: Engine, id: string): Promise<void> {
  for (let i = 0; ; i++) {
    const services = Object.values(engine.snapshot(id).state.services);
    if (services.every((s) => !s.enabled || s.last_sync !== null || s.message !== null)) return;
    if (i > 1000) throw new Error(`${id}: no first poll (${JSON.stringify(engine.snapshot(id).state)})`);
    await sleep(10);
  }
}

async function stateSection(dir: string, id: string, section: string): Promise<Record<string, unknown> | null> {
  const raw = JSON.parse(await readFile(join(dir, "engine", `${id}.json`), "utf8")) as Record<string, unknown>;
  return (raw[section] as Record<string, unknown> | undefined) ?? null;
}

function dsidOf(appleId: string): string {
  return sim.world.accounts.byAppleId(appleId)?.dsid ?? "";
}

/** Polls one service; what the account then shows about it. */
async function poll(engine: Engine, id: string, key: ServiceKey, dataType: DataType): Promise<Outcome> {
  const out: Outcome = { errors: [], problems: [] };
  try {
    await engine.execute("sync", { data_types: [dataType] });
  } catch (error) {
    out.problems.push(`sync refused: ${isEngineError(error) ? error.code : String(error)}`);
    return out;
  }
  const state = engine.snapshot(id).state;
  const status = state.services[key];
  if (status.message === null) {
    if (state.prevError !== null) out.problems.push(`prevError ${state.prevError.code} after a good poll`);
  } else if (state.prevError === null) {
    out.problems.push(`the poll failed (${status.message}) without prevError`);
  } else {
    out.errors.push(state.prevError.code);
  }
  return out;
}

async function recoverBy(run: () => Promise<Outcome>): Promise<string[]> {
  const outcome = await run();
  return [...outcome.problems, ...outcome.errors.map((code) => `no recovery: ${code}`)];
}

/** A running engine polling one service on demand. */
async function servicePhase(
  phase: string,
  appleId: string,
  key: ServiceKey,
  dataType: DataType,
  service: (dir: string) => Record<string, unknown>,
): Promise<{
  base: Pick<Phase, "phase" | "appleId" | "sleeps" | "run" | "recover" | "close">;
  engine: Engine;
  id: string;
  dir: string;
}> {
  const id = key;
  const dir = await tempDir(`i2m-matrix-${key}-`);
  const sleeps: number[] = [];
  const engine = newEngine(appleId, id, { [key]: service(dir) }, dir, sleeps);
  await engine.start();
  await firstPolls(engine, id);
  const run = () => poll(engine, id, key, dataType);
  return {
    base: { phase, appleId, sleeps, run, recover: () => recoverBy(run), close: () => engine.stop() },
    engine,
    id,
    dir,
  };
}

async function findMyPoll(): Promise<Phase> {
  const { base, engine, id } = await servicePhase(
    "Find My poll",
    "findmy@matrix.example",
    "findmy",
    "fmip.devices",
    () => ({
      schedule: HOUR,
      family: false,
    }),
  );
  const removed: string[] = [];
  engine.bus.on(removed, "device.removed", ({ deviceId }) => void removed.push(deviceId));
  const devices = engine.snapshot(id).findmy.devices.length;
  return {
    ...base,
    before: async () => undefined,
    verify: async (problems) => {
      if (removed.length > 0) problems.push(`devices removed: ${removed.join(", ")}`);
      const now = engine.snapshot(id).findmy.devices.length;
      if (now !== devices) problems.push(`${now} devices instead of ${devices}`);
    },
    tokens: async () => "",
  };
}

/** The first bytes of a photo or video file of this name's format (foreign bytes at the start: a corrupt file). */
function startsLikeItsFormat(name: string, head: Buffer): boolean {
  const ext = name.split(".").pop()?.toUpperCase() ?? "";
  if (ext === "JPG" || ext === "JPEG") return head[0] === 0xff && head[1] === 0xd8;
  if (ext === "PNG") return head.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  if (["HEIC", "MOV", "MP4"].includes(ext)) return head.subarray(4, 8).toString("latin1") === "ftyp";
  return true;
}

/** Photos: every new photo announced once; with downloads, on disk once, complete and uncorrupted. */
async function photosPhase(kind: "check" | "download" | "retry"): Promise<Phase> {
  const appleId = `${kind === "check" ? "photos" : kind}@matrix.example`;
  const name = {
    check: "photos change check",
    download: "photo download",
    retry: "retry of a failed photo download",
  }[kind];
  let library = "";
  const { base, engine, id, dir } = await servicePhase(name, appleId, "photos", "icpl.photos", (folder) => {
    library = join(folder, "library");
    return {
      schedule: HOUR,
      ...(kind === "check"
        ? {}
        : { download: { enabled: true, folder: library, structure: "none", live_videos: false } }),
    };
  });
  const control = findPhotosSimulator(sim.url);
  if (control === undefined) throw new Error("no photos simulator");
  const added: string[] = [];
  const announced: string[] = [];
  const sizes = new Map<string, number>();
  engine.bus.on(announced, "photo.new", ({ asset }) => {
    announced.push(asset.id);
    const original = asset.files.find((f) => f.role === "original");
    if (original !== undefined) sizes.set(asset.id, original.size);
  });
  const add = () => {
    for (const photo of control.addPhotos(dsidOf(appleId), 1)) added.push(photo.assetRecordName);
  };
  return {
    ...base,
    before: async () => {
      add();
      if (kind !== "retry") return;
      // A download that failed on the last poll: this run looks it up again and fetches it.
      sim.faults.add({ endpoint: "photos.download", kind: "status", status: 500 });
      await base.run();
      sim.faults.clear();
    },
    verify: async (problems) => {
      const twice = announced.filter((a, i) => announced.indexOf(a) !== i);
      if (twice.length > 0) problems.push(`announced twice: ${twice.join(", ")}`);
      const lost = added.filter((a) => !announced.includes(a));
      if (lost.length > 0) problems.push(`never announced: ${lost.join(", ")}`);
      if (kind === "check") return;
      const files = (await readdir(library).catch(() => [] as string[])).sort();
      const parts = files.filter((f) => f.endsWith(".part"));
      if (parts.length > 0) problems.push(`partial files left: ${parts.join(", ")}`);
      const complete = files.filter((f) => !f.endsWith(".part"));
      if (complete.length !== added.length) problems.push(`${complete.length} files for ${added.length} new photos`);
      for (const file of complete) {
        const head = (await readFile(join(library, file))).subarray(0, 12);
        if (!startsLikeItsFormat(file, head))
          problems.push(`${file} does not start like a ${file.split(".").pop()} file`);
      }
      const onDisk = await Promise.all(complete.map(async (f) => (await stat(join(library, f))).size));
      const expected = [...sizes.values()].sort((a, b) => a - b);
      if (JSON.stringify(onDisk.sort((a, b) => a - b)) !== JSON.stringify(expected))
        problems.push(`file sizes ${onDisk.join(",")} instead of ${expected.join(",")}`);
    },
    tokens: async () => JSON.stringify((await stateSection(dir, id, "photos"))?.["sync"] ?? null),
    afterFeed: ["download-failed"],
  };
}

async function callsPoll(): Promise<Phase> {
  const appleId = "calls@matrix.example";
  const { base, engine, id, dir } = await servicePhase("call history poll", appleId, "calls", "callkit.calls", () => ({
    schedule: HOUR,
  }));
  const added: string[] = [];
  const announced: string[] = [];
  engine.bus.on(announced, "call.new", ({ call }) => void announced.push(call.id));
  return {
    ...base,
    before: async () => {
      const n = added.length + 1;
      const date = new Date(Date.now() - 60_000 + n).toISOString();
      added.push(callsProbe(dsidOf(appleId)).addCall({ address: `+1555000${n}`, date, direction: "incoming" }));
    },
    verify: async (problems) => {
      const twice = announced.filter((a, i) => announced.indexOf(a) !== i);
      if (twice.length > 0) problems.push(`announced twice: ${twice.join(", ")}`);
      if (announced.length !== added.length) problems.push(`${announced.length} calls announced, ${added.length} made`);
    },
    tokens: async () => JSON.stringify((await stateSection(dir, id, "calls"))?.["cursor"] ?? null),
  };
}

/** A restart with a stored session and no data yet: the first poll of every service (fresh engine per cell). */
async function firstPollsPhase(): Promise<Phase> {
  const appleId = "restart@matrix.example";
  const id = "restart";
  const services = {
    findmy: { schedule: HOUR, family: false },
    photos: { schedule: HOUR },
    calls: { schedule: HOUR },
  };
  const template = await tempDir("i2m-matrix-restart-template-");
  const signedIn = newEngine(appleId, id, ALL_OFF, template, []);
  await signedIn.start();
  for (let i = 0; signedIn.snapshot(id).state.session.state !== "active"; i++) {
    if (i > 1000) throw new Error("the template account did not sign in");
    await sleep(10);
  }
  await signedIn.stop();
  const sleeps: number[] = [];
  let engine: Engine | undefined;
  let dir = "";
  const keys: Array<[ServiceKey, DataType]> = [
    ["findmy", "fmip.devices"],
    ["photos", "icpl.photos"],
    ["calls", "callkit.calls"],
  ];
  const current = () => {
    if (engine === undefined) throw new Error("no engine");
    return engine;
  };
  return {
    phase: "first polls after a restart",
    appleId,
    sleeps,
    before: async () => {
      dir = await tempDir("i2m-matrix-restart-");
      await cp(template, dir, { recursive: true });
      engine = newEngine(appleId, id, services, dir, sleeps);
    },
    run: async () => {
      const out: Outcome = { errors: [], problems: [] };
      await current().start();
      await firstPolls(current(), id);
      const state = current().snapshot(id).state;
      const failed = Object.values(state.services).filter((s) => s.enabled && s.message !== null);
      if (failed.length > 0) {
        if (state.prevError === null) out.problems.push("a first poll failed without prevError");
        else out.errors.push(state.prevError.code);
      }
      return out;
    },
    recover: async () => {
      const problems: string[] = [];
      for (const [key, dataType] of keys) problems.push(...(await recoverBy(() => poll(current(), id, key, dataType))));
      return problems;
    },
    verify: async (problems) => {
      const snapshot = current().snapshot(id);
      if (snapshot.findmy.devices.length !== 2) problems.push(`${snapshot.findmy.devices.length} devices`);
      if (snapshot.photos.count === null || snapshot.photos.latest === null) problems.push("no photos count or latest");
      if (snapshot.calls.last === null) problems.push("no last call");
    },
    tokens: async () => "",
    after: async () => {
      await engine?.stop();
      engine = undefined;
    },
    close: async () => undefined,
  };
}

/** play_sound, send_message and lost_mode: each performed at most once per request, never replayed. */
async function findMyCommands(): Promise<Phase> {
  const { base, engine } = await servicePhase(
    "Find My commands",
    "findmy@matrix.example",
    "findmy",
    "fmip.devices",
    () => ({
      schedule: HOUR,
      family: false,
    }),
  );
  const probe = findMyProbe(dsidOf("findmy@matrix.example"));
  let asked = 0;
  const commands = async (): Promise<Outcome> => {
    const out: Outcome = { errors: [], problems: [] };
    const device = "Jane's iPhone";
    const runs = [
      () => engine.execute("play_sound", { device, subject: "matrix" }),
      () => engine.execute("send_message", { device, text: "matrix" }),
      () => engine.execute("lost_mode", { device, text: "matrix", phone_number: "+15550100" }),
    ];
    for (const run of runs) {
      asked += 1;
      try {
        await run();
      } catch (error) {
        if (!isEngineError(error)) throw error;
        out.errors.push(error.sessionError);
      }
    }
    return out;
  };
  return {
    ...base,
    run: commands,
    recover: () => recoverBy(commands),
    before: async () => undefined,
    verify: async (problems) => {
      if (probe.actions().length > asked)
        problems.push(`${probe.actions().length} actions performed for ${asked} requests`);
    },
    tokens: async () => "",
  };
}

/** Each value in `seen` once, and no payload announced twice in a row. */
function checkOnce(what: string, seen: readonly string[], problems: string[]): void {
  const twice = seen.filter((a, i) => seen.indexOf(a) !== i);
  if (twice.length > 0) problems.push(`${what} twice: ${[...new Set(twice)].join(", ")}`);
}

function checkNoRepeat(what: string, payloads: readonly string[], problems: string[]): void {
  if (payloads.some((p, i) => i > 0 && p === payloads[i - 1])) problems.push(`${what} announced twice in a row`);
}

/**
 * Contacts: a new card each cell, found with one `co/changeset`; with `reread` Apple refuses the
 * stored tokens first, so the poll reads the whole book (`co/startup`, `co/contacts`) again.
 */
async function contactsPoll(reread: boolean): Promise<Phase> {
  const appleId = reread ? "contacts-reread@matrix.example" : "contacts@matrix.example";
  const { base, engine, id, dir } = await servicePhase(
    reread ? "contacts poll after a refused token" : "contacts poll",
    appleId,
    "contacts",
    "mme_contacts.contacts",
    () => ({ enabled: true, schedule: HOUR }),
  );
  const probe = contactsProbe(dsidOf(appleId));
  const counts: string[] = [];
  engine.bus.on(counts, "contacts.count", ({ count }) => void counts.push(String(count)));
  let n = 0;
  return {
    ...base,
    before: async () => {
      n += 1;
      probe.add({ first_name: "Matrix", last_name: `Contact ${n}`, birthday: `1990-01-0${(n % 9) + 1}` });
      if (reread) probe.resetTokens();
    },
    verify: async (problems) => {
      checkNoRepeat("the contacts count", counts, problems);
      const stored = (await stateSection(dir, id, "contacts"))?.["contacts"] as Record<string, { contact_id: string }>;
      const have = Object.values(stored ?? {})
        .map((c) => c.contact_id)
        .sort();
      const book = probe.book
        .sorted()
        .map((c) => c.contactId)
        .sort();
      if (JSON.stringify(have) !== JSON.stringify(book))
        problems.push(`${have.length} contacts stored, ${book.length} in the address book`);
      if (engine.snapshot(id).contacts.count !== book.length)
        problems.push(`count ${engine.snapshot(id).contacts.count} for ${book.length} contacts`);
    },
    tokens: async () => {
      const section = await stateSection(dir, id, "contacts");
      return JSON.stringify([section?.["pref_token"], section?.["sync_token"]]);
    },
  };
}

/** Calendar: a new event today each cell (its calendar's ctag changes): `ca/startup`, then `ca/events`. */
async function calendarPoll(): Promise<Phase> {
  const appleId = "calendar@matrix.example";
  const { base, engine, id, dir } = await servicePhase(
    "calendar poll",
    appleId,
    "calendar",
    "mme_calendar.events",
    () => ({ enabled: true, schedule: HOUR, time_zone: "UTC", days_ahead: 2 }),
  );
  const probe = calendarProbe(dsidOf(appleId));
  const today = new Date().toISOString().slice(0, 10);
  const added: string[] = [];
  const todays: string[] = [];
  engine.bus.on(todays, "calendar.today", ({ events }) => void todays.push(JSON.stringify(events)));
  return {
    ...base,
    before: async () => {
      const minute = String(added.length % 60).padStart(2, "0");
      added.push(
        probe.add({ title: `Matrix ${added.length + 1}`, start: `${today}T23:${minute}`, duration_minutes: 5 }),
      );
    },
    verify: async (problems) => {
      checkNoRepeat("today's events", todays, problems);
      const stored = ((await stateSection(dir, id, "calendar"))?.["events"] ?? []) as Array<{ event: { id: string } }>;
      const ids = stored.map((e) => e.event.id);
      checkOnce("event stored", ids, problems);
      const lost = added.filter((guid) => !ids.includes(guid));
      if (lost.length > 0) problems.push(`events never stored: ${lost.join(", ")}`);
      const shown = engine.snapshot(id).calendar.today.map((e) => e.id);
      const missing = added.filter((guid) => !shown.includes(guid));
      if (missing.length > 0) problems.push(`events not in today's: ${missing.join(", ")}`);
    },
    tokens: async () => {
      const section = await stateSection(dir, id, "calendar");
      const calendars = (section?.["calendars"] ?? []) as Array<{ id: string; ctag: string | null }>;
      return JSON.stringify([calendars.map((c) => [c.id, c.ctag]), section?.["window"]]);
    },
  };
}

/** Notes: a new note each cell, announced once as created, found with `changes/zone` from the stored token. */
async function notesPoll(): Promise<Phase> {
  const appleId = "notes@matrix.example";
  const { base, engine, id, dir } = await servicePhase("notes poll", appleId, "notes", "mme_notes.notes", () => ({
    enabled: true,
    schedule: HOUR,
  }));
  const probe = notesProbe(dsidOf(appleId));
  const added: string[] = [];
  const announced: string[] = [];
  engine.bus.on(announced, "note.changed", ({ change, note }) => void announced.push(`${change} ${note.id}`));
  return {
    ...base,
    before: async () => {
      added.push(probe.add({ title: `Matrix note ${added.length + 1}`, body: "cell" }));
    },
    verify: async (problems) => {
      checkOnce("announced", announced, problems);
      const expected = added.map((name) => `created ${name}`);
      const lost = expected.filter((a) => !announced.includes(a));
      if (lost.length > 0) problems.push(`never announced: ${lost.join(", ")}`);
      const other = announced.filter((a) => !expected.includes(a));
      if (other.length > 0) problems.push(`announced without a change: ${other.join(", ")}`);
    },
    tokens: async () => JSON.stringify((await stateSection(dir, id, "notes"))?.["sync_token"] ?? null),
  };
}

/**
 * The contacts, calendar and notes commands that read iCloud on request: list_contacts,
 * contact_image, list_events, list_notes, note_attachment. A command that succeeds answers what it
 * answered without faults (no corrupt image or attachment); none moves the polling state.
 */
async function personalCommands(): Promise<Phase> {
  const appleId = "personal@matrix.example";
  const id = "personal";
  const dir = await tempDir("i2m-matrix-personal-");
  const sleeps: number[] = [];
  const services = {
    contacts: { enabled: true, schedule: HOUR },
    calendar: { enabled: true, schedule: HOUR, time_zone: "UTC" },
    notes: { enabled: true, schedule: HOUR },
  };
  const engine = newEngine(appleId, id, services, dir, sleeps);
  await engine.start();
  await firstPolls(engine, id);
  const contacts = (await engine.execute("list_contacts", {})).contacts;
  const image = contacts.find((c) => c.image !== null)?.image?.id;
  const notes = (await engine.execute("list_notes", {})).notes;
  const attachment = notes.flatMap((note) => note.attachments)[0]?.id;
  if (image === undefined || attachment === undefined) throw new Error("no contact image or note attachment");
  const runs: Array<[string, () => Promise<unknown>]> = [
    ["list_contacts", () => engine.execute("list_contacts", {})],
    ["contact_image", () => engine.execute("contact_image", { file: image })],
    ["list_events", () => engine.execute("list_events", {})],
    ["list_notes", () => engine.execute("list_notes", {})],
    ["note_attachment", () => engine.execute("note_attachment", { file: attachment })],
  ];
  const baseline = new Map<string, string>();
  for (const [name, run] of runs) baseline.set(name, JSON.stringify(await run()));
  const tokens = async () => {
    const raw = JSON.parse(await readFile(join(dir, "engine", `${id}.json`), "utf8")) as Record<string, unknown>;
    const { contacts: c, calendar: k, notes: n } = raw as Record<string, Record<string, unknown>>;
    return JSON.stringify([c?.["sync_token"], c?.["pref_token"], k?.["calendars"], k?.["window"], n?.["sync_token"]]);
  };
  const polling = await tokens();
  let wrong: string[] = [];
  const commands = async (): Promise<Outcome> => {
    const out: Outcome = { errors: [], problems: [] };
    for (const [name, run] of runs) {
      try {
        const result = JSON.stringify(await run());
        if (result !== baseline.get(name)) wrong.push(`${name} answered differently`);
      } catch (error) {
        if (!isEngineError(error)) {
          out.problems.push(`${name} failed with an uncoded error: ${String(error)}`);
          continue;
        }
        out.errors.push(error.sessionError);
      }
    }
    return out;
  };
  return {
    phase: "contacts, calendar and notes commands",
    appleId,
    sleeps,
    run: commands,
    recover: () => recoverBy(commands),
    before: async () => {
      wrong = [];
    },
    verify: async (problems) => {
      problems.push(...wrong);
      if ((await tokens()) !== polling) problems.push("a command moved the polling state");
    },
    tokens,
    close: () => engine.stop(),
  };
}

/** Routes the phase requests when nothing fails. */
async function probeRoutes(phase: Phase): Promise<string[]> {
  await phase.before();
  const mark = requestMark(sim);
  const outcome = await phase.run();
  const problems = [...outcome.problems, ...outcome.errors.map((e) => `failed: ${e}`)];
  await phase.verify(problems);
  await phase.after?.();
  if (problems.length > 0) throw new Error(`${phase.phase} fails without faults: ${problems.join("; ")}`);
  // Sign-in and setup routes belong to the sign-in matrix.
  return routesSince(sim, mark).filter((r) => !/^(idmsa|setup)\./.test(r));
}

async function runMatrix(phase: Phase): Promise<void> {
  const routes = await probeRoutes(phase);
  for (const route of routes) covered.add(route);
  for (const route of routes) {
    for (const fault of FAULTS) {
      for (const mode of MODES) {
        const started = Date.now();
        const problems: string[] = [];
        const srpBefore = sim.stats(phase.appleId).srp_signins;
        await phase.before();
        const tokensBefore = await phase.tokens();
        phase.sleeps.length = 0;
        sim.faults.add(faultSpec(route, fault, mode));
        const outcome = await phase.run();
        checkFaultReached(sim, mode, problems);
        sim.faults.clear();
        problems.push(...outcome.problems);
        if (outcome.errors.length > 0) {
          const feedFailed = outcome.errors.some((e) => !(phase.afterFeed ?? []).includes(e));
          if (feedFailed && (await phase.tokens()) !== tokensBefore)
            problems.push("sync token stored after a failed poll");
        } else if (
          fault.spec.kind === "rate_limit" &&
          mode === "once" &&
          !phase.sleeps.some((ms) => ms >= RETRY_AFTER_S * 1000)
        ) {
          problems.push("Retry-After not honoured");
        }
        checkErrors(fault, outcome.errors, problems);
        problems.push(...(await phase.recover()));
        await phase.verify(problems);
        await phase.after?.();
        const srp = sim.stats(phase.appleId).srp_signins - srpBefore;
        if (srp > 1) problems.push(`${srp} full SRP sign-ins`);
        problems.push(...watch.take());
        results.push({
          phase: phase.phase,
          route,
          fault: fault.name,
          mode,
          outcome: outcome.errors.length === 0 ? "absorbed" : "failed",
          errors: outcome.errors,
          srp,
          ms: Date.now() - started,
          problems,
        });
      }
    }
  }
}

beforeAll(async () => {
  watch.install();
  sim = await startScenario(scenario);
});

afterAll(async () => {
  watch.uninstall();
  await cleanUp();
});

describe("fault matrix: polls, downloads and commands", () => {
  it("every route they request × 500, 503, 429, 421, 450, reset, timeout, malformed, truncated × once/repeated", async () => {
    const phases = [
      await findMyPoll(),
      await photosPhase("check"),
      await photosPhase("download"),
      await photosPhase("retry"),
      await callsPoll(),
      await contactsPoll(false),
      await contactsPoll(true),
      await calendarPoll(),
      await notesPoll(),
      await personalCommands(),
      await firstPollsPhase(),
      await findMyCommands(),
    ];
    try {
      for (const phase of phases) await runMatrix(phase);
    } finally {
      for (const phase of phases) await phase.close();
    }
    const notRequested = sim.routeIds().filter((r) => !covered.has(r) && !/^(idmsa|setup)\./.test(r));
    console.log(matrixReport("polls, downloads and commands", results, notRequested));
    expect(results.length).toBeGreaterThan(300);
    expect(
      results.filter((r) => r.problems.length > 0).map((r) => `${r.phase}/${r.route}/${r.fault}/${r.mode}`),
    ).toEqual([]);
  }, 600_000);
});
