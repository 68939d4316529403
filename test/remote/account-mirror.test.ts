import { beforeAll, describe, expect, it } from "vitest";
import type { AccountSnapshot, AccountSummary } from "../../src/engine/api.ts";
import { COMMAND_NAMES } from "../../src/engine/commands.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import { SAFARI_NOT_AVAILABLE_MESSAGE } from "../../src/engine/services/safari/index.ts";
import { accountMessages } from "../../src/mqtt/messages.ts";
import type { MqttOutput, MqttViewContext } from "../../src/mqtt/service-view.ts";
import { type LoadedMqttView, loadMqttViews } from "../../src/mqtt/service-views.ts";
import { Topics } from "../../src/mqtt/topics.ts";
import { AccountMirror, type MirroredEvent } from "../../src/remote/account-mirror.ts";
import { resultSchemas } from "../../src/remote/results.ts";
import { FAKE_ASSET, FAKE_CALL, FAKE_JPEG, fakeAccountState, fakeDevice } from "../../src/testing/fixtures.ts";
import { ALL_SERVICES, FINDMY_ONLY } from "../support/mqtt.ts";

/**
 * The way back: what the bridge's MQTT views publish, read by a remote engine's account mirror, gives
 * the same snapshot and the same events. Messages are produced by the bridge's own views (the real
 * wire format), never written by hand, except the invalid ones.
 */

const ctx: MqttViewContext = { topics: new Topics("i2m", "homeassistant"), version: "1.2.3" };
const ALL: AccountSummary = { id: "jane", username: "j***@example.com", services: ALL_SERVICES };

const EVENT = {
  id: "EV-1",
  data_type: "mme_calendar.event" as const,
  calendar_id: "CAL-1",
  calendar: "Work",
  title: "Stand-up",
  location: "Room 4",
  all_day: false,
  start: "2026-12-01T09:30:00+01:00",
  end: "2026-12-01T09:45:00+01:00",
  time_zone: "Europe/Berlin",
  recurring: true,
};
const NOTE = {
  id: "NOTE-1",
  data_type: "mme_notes.note" as const,
  title: "Shopping list",
  folder: "Notes",
  folder_id: "F-1",
  created: "2026-11-01T10:00:00.000Z",
  modified: "2026-12-01T08:00:00.000Z",
  locked: false,
  text: null,
  attachments: [],
};

let views: LoadedMqttView[];
beforeAll(async () => {
  views = await loadMqttViews();
});

function view(key: string) {
  const loaded = views.find((v) => v.key === key);
  if (loaded === undefined) throw new Error(`no view ${key}`);
  return loaded.view;
}

/** Feeds what the bridge would publish into the mirror; returns the events it meant. */
function feed(mirror: AccountMirror, outputs: MqttOutput[], retained = false): MirroredEvent[] {
  const events: MirroredEvent[] = [];
  for (const output of outputs) {
    const message =
      output.kind === "state"
        ? { topic: output.topic, payload: Buffer.from(output.payload), retained }
        : output.kind === "clear"
          ? { topic: output.topic, payload: Buffer.alloc(0), retained }
          : undefined;
    if (message === undefined) continue; // discovery is not read back
    const receipt = mirror.receive(ctx, message);
    expect(receipt.kind, output.kind === "state" || output.kind === "clear" ? output.topic : "").toBe("update");
    if (receipt.kind === "update") events.push(...receipt.events);
  }
  return events;
}

/** What the bridge publishes for one of the engine's events. */
function render<K extends keyof EngineEvents & string>(service: string, event: K, payload: EngineEvents[K][0]) {
  const renderer = view(service).events[event] as ((c: MqttViewContext, p: unknown) => MqttOutput[]) | undefined;
  if (renderer === undefined) throw new Error(`${service} does not render ${event}`);
  return renderer(ctx, payload);
}

/** The account's state as the bridge publishes it (its `availability` is derived from it and not read back). */
function stateMessages(state: ReturnType<typeof fakeAccountState>): MqttOutput[] {
  return accountMessages(ctx.topics, state)
    .filter((m) => m.topic === ctx.topics.accountState(state.account))
    .map((m) => ({ kind: "state", ...m }));
}

const iphone = fakeDevice("dev-1", "Jane's iPhone");
// A friendly name: its topic is devices/jane_s_ipad.
const ipad = { ...fakeDevice("Ab+C/d==", "Jane's iPad", 40), slug: "jane_s_ipad" };

/**
 * What the services publish retained for `snapshot` (their snapshot and account-state outputs) that a
 * remote engine reads back: `findmy/stale` is derived from the state and the devices, and not read.
 */
function serviceOutputs(snapshot: AccountSnapshot, summary: AccountSummary = ALL): MqttOutput[] {
  const services = snapshot as unknown as Record<string, unknown>;
  return views
    .filter(({ key }) => (summary.services as Record<string, boolean>)[key])
    .flatMap(({ key, view: v }) => [
      ...v.snapshot(ctx, summary.id, services[key]),
      ...(v.accountState?.(ctx, snapshot.state, services[key]) ?? []),
    ])
    .filter((o) => !(o.kind === "state" && o.topic.endsWith("/findmy/stale")));
}

/** A mirror that has read the retained topics of `snapshot`. */
function mirrorOf(snapshot: AccountSnapshot, summary: AccountSummary = ALL): AccountMirror {
  const mirror = new AccountMirror(summary, views);
  // The bridge publishes only the services the account uses.
  feed(mirror, [...stateMessages(snapshot.state), ...serviceOutputs(snapshot, summary)], true);
  return mirror;
}

const FULL: AccountSnapshot = {
  state: fakeAccountState("jane"),
  findmy: { devices: [iphone, ipad] },
  photos: {
    latest: { asset: FAKE_ASSET, thumbnail: FAKE_JPEG },
    count: 12,
    backfill: {
      state: "running",
      items_done: 3,
      items_total: 12,
      files: 5,
      bytes: 40_960,
      failed: 0,
      eta_seconds: 9,
      percent: 25,
    },
  },
  calls: { last: FAKE_CALL, recent: [FAKE_CALL, { ...FAKE_CALL, id: "call-0", missed: false, answered: true }] },
  contacts: {
    count: 3,
    date: "2026-12-01",
    birthdays_today: [{ id: "0123456789abcdef", name: "Zoë Lefèvre", birthday: "1990-12-01", age: 36 }],
  },
  calendar: { next: EVENT, date: "2026-12-01", today: [EVENT], calendars: [] },
  notes: { count: 5, recent: [] },
  safari: { available: false, reason: SAFARI_NOT_AVAILABLE_MESSAGE },
};

describe("AccountMirror: the bridge's retained topics read back", () => {
  it("rebuilds the whole snapshot, whatever order the retained messages come in", () => {
    expect(mirrorOf(FULL).snapshot()).toEqual(FULL);
    const mirror = new AccountMirror(ALL, views);
    feed(mirror, [...serviceOutputs(FULL).reverse(), ...stateMessages(FULL.state)], true);
    // Devices are listed in the order they came.
    expect(mirror.snapshot()).toEqual({ ...FULL, findmy: { devices: [ipad, iphone] } });
  });

  it("has no snapshot before the account's state, and empty ones for services the account does not use", () => {
    const summary: AccountSummary = { ...ALL, services: FINDMY_ONLY };
    const mirror = new AccountMirror(summary, views);
    expect(mirror.snapshot()).toBeNull();
    expect(mirror.filters(ctx)).toEqual(["i2m/jane/state", "i2m/jane/devices/+"]);
    const snapshot = mirrorOf(FULL, summary).snapshot();
    expect(snapshot).toEqual({
      ...FULL,
      photos: { latest: null, count: null, backfill: null },
      calls: { last: null, recent: [] },
      contacts: { count: null, date: null, birthdays_today: [] },
      calendar: { next: null, date: null, today: [], calendars: [] },
      notes: { count: null, recent: [] },
    });
    // A photos topic is not the mirror's business when the account does not use photos.
    expect(mirror.receive(ctx, { topic: "i2m/jane/photos/count", payload: Buffer.from("3"), retained: true })).toEqual({
      kind: "ignored",
    });
  });

  it("subscribes to exactly the topics the services publish", () => {
    expect(new AccountMirror(ALL, views).filters(ctx)).toEqual([
      "i2m/jane/state",
      "i2m/jane/devices/+",
      "i2m/jane/photos/latest",
      "i2m/jane/photos/latest/thumbnail",
      "i2m/jane/photos/event",
      "i2m/jane/photos/count",
      "i2m/jane/photos/backfill",
      "i2m/jane/calls/last",
      "i2m/jane/calls/recent",
      "i2m/jane/calls/event",
      "i2m/jane/contacts/birthdays_today",
      "i2m/jane/contacts/count",
      "i2m/jane/calendar/next",
      "i2m/jane/calendar/today",
      "i2m/jane/notes/count",
      "i2m/jane/notes/event",
    ]);
  });

  it("can parse the result of every command", () => {
    expect([...resultSchemas(views).keys()].sort()).toEqual([...COMMAND_NAMES].sort());
  });
});

describe("AccountMirror: events from changes", () => {
  it("Find My: a changed device is device.updated, the same one again nothing, a cleared one device.removed", () => {
    const mirror = mirrorOf(FULL);
    const moved = { ...iphone, battery_percent: 79, battery_level: 0.79 };
    const updated = { event: "device.updated", payload: { account: "jane", device: moved } };
    expect(feed(mirror, render("findmy", "device.updated", { account: "jane", device: moved }))).toEqual([updated]);
    expect(feed(mirror, render("findmy", "device.updated", { account: "jane", device: moved }))).toEqual([]);
    const removed = render("findmy", "device.removed", { account: "jane", deviceId: ipad.id, slug: ipad.slug });
    expect(removed).toContainEqual({ kind: "clear", topic: "i2m/jane/devices/jane_s_ipad" });
    expect(feed(mirror, removed)).toEqual([
      { event: "device.removed", payload: { account: "jane", deviceId: ipad.id, slug: "jane_s_ipad" } },
    ]);
    expect(mirror.snapshot()?.findmy).toEqual({ devices: [moved] });
    // Removing what is already gone says nothing.
    expect(feed(mirror, removed)).toEqual([]);
  });

  it("photos: photo.latest comes without, then with the thumbnail; photo.new carries it; photo.count", () => {
    const mirror = mirrorOf(FULL);
    const asset = { ...FAKE_ASSET, id: "asset-2", filename: "IMG_0002.HEIC" };
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 9, 9, 0xff, 0xd9]);
    expect(feed(mirror, render("photos", "photo.new", { account: "jane", asset, thumbnail: jpeg }))).toEqual([
      { event: "photo.latest", payload: { account: "jane", asset, thumbnail: null } },
      { event: "photo.latest", payload: { account: "jane", asset, thumbnail: jpeg } },
      { event: "photo.new", payload: { account: "jane", asset, thumbnail: jpeg } },
    ]);
    expect(feed(mirror, render("photos", "photo.count", { account: "jane", count: 13 }))).toEqual([
      { event: "photo.count", payload: { account: "jane", count: 13 } },
    ]);
    expect(mirror.snapshot()?.photos).toEqual({
      latest: { asset, thumbnail: jpeg },
      count: 13,
      backfill: FULL.photos.backfill,
    });
    // A new photo without a thumbnail: the newest thumbnail stays in the snapshot (as in the engine), not in the event.
    const third = { ...FAKE_ASSET, id: "asset-3" };
    expect(feed(mirror, render("photos", "photo.new", { account: "jane", asset: third, thumbnail: null }))).toEqual([
      { event: "photo.latest", payload: { account: "jane", asset: third, thumbnail: null } },
      { event: "photo.new", payload: { account: "jane", asset: third, thumbnail: null } },
    ]);
    expect(mirror.snapshot()?.photos.latest).toEqual({ asset: third, thumbnail: jpeg });
  });

  it("calls: call.last when the newest call changes, call.new for each live event (never a retained one)", () => {
    const mirror = mirrorOf(FULL);
    const call = { ...FAKE_CALL, id: "call-2", missed: false, answered: true, direction: "outgoing" as const };
    expect(feed(mirror, render("calls", "call.new", { account: "jane", call }))).toEqual([
      { event: "call.last", payload: { account: "jane", call } },
      { event: "call.new", payload: { account: "jane", call } },
    ]);
    expect(mirror.snapshot()?.calls).toEqual({ last: call, recent: FULL.calls.recent });
    const leftover = render("calls", "call.new", { account: "jane", call }).filter(
      (o) => o.kind === "state" && o.topic.endsWith("/event"),
    );
    expect(feed(mirror, leftover, true)).toEqual([]);
  });

  it("contacts: contacts.birthdays when today's birthdays change, contacts.count on a new count", () => {
    const mirror = mirrorOf(FULL);
    const contacts = [{ id: "fedcba9876543210", name: "Анна Иванова", birthday: "--12-02", age: null }];
    const payload = { account: "jane", date: "2026-12-02", contacts };
    expect(feed(mirror, render("contacts", "contacts.birthdays", payload))).toEqual([
      { event: "contacts.birthdays", payload },
    ]);
    expect(feed(mirror, render("contacts", "contacts.birthdays", payload))).toEqual([]);
    expect(feed(mirror, render("contacts", "contacts.count", { account: "jane", count: 4 }))).toEqual([
      { event: "contacts.count", payload: { account: "jane", count: 4 } },
    ]);
    expect(mirror.snapshot()?.contacts).toEqual({ count: 4, date: "2026-12-02", birthdays_today: contacts });
  });

  it("calendar: calendar.next (also to no event) and calendar.today on change", () => {
    const mirror = mirrorOf(FULL);
    expect(feed(mirror, render("calendar", "calendar.next", { account: "jane", event: null }))).toEqual([
      { event: "calendar.next", payload: { account: "jane", event: null } },
    ]);
    const later = { ...EVENT, id: "EV-2", title: "Dentist", recurring: false };
    expect(feed(mirror, render("calendar", "calendar.next", { account: "jane", event: later }))).toEqual([
      { event: "calendar.next", payload: { account: "jane", event: later } },
    ]);
    const today = { account: "jane", date: "2026-12-02", events: [later] };
    expect(feed(mirror, render("calendar", "calendar.today", today))).toEqual([
      { event: "calendar.today", payload: today },
    ]);
    expect(mirror.snapshot()?.calendar).toEqual({ next: later, date: "2026-12-02", today: [later], calendars: [] });
  });

  it("notes: note.changed for each live event (never a retained one), notes.count on a new count", () => {
    const mirror = mirrorOf(FULL);
    const changed = { account: "jane", change: "updated" as const, note: NOTE };
    expect(feed(mirror, render("notes", "note.changed", changed))).toEqual([
      { event: "note.changed", payload: changed },
    ]);
    expect(feed(mirror, render("notes", "note.changed", changed), true)).toEqual([]);
    expect(feed(mirror, render("notes", "notes.count", { account: "jane", count: 6 }))).toEqual([
      { event: "notes.count", payload: { account: "jane", count: 6 } },
    ]);
    expect(mirror.snapshot()?.notes).toEqual({ count: 6, recent: [NOTE] });
  });

  it("the account's state: account.state on change; mfa.required on becoming blocked; sync.failed on a new error", () => {
    const mirror = mirrorOf(FULL);
    const ready = FULL.state;
    expect(feed(mirror, stateMessages(ready))).toEqual([]);
    const blocked = fakeAccountState("jane", { awaiting: "code" });
    expect(feed(mirror, stateMessages(blocked))).toEqual([
      { event: "account.state", payload: blocked },
      { event: "mfa.required", payload: { account: "jane", state: blocked } },
    ]);
    // A wrong code: still blocked, with an error; not a sync failure.
    const wrong = { ...blocked, prevError: { code: "code-invalid", message: "wrong code" } };
    expect(feed(mirror, stateMessages(wrong))).toEqual([{ event: "account.state", payload: wrong }]);
    const failed = { ...ready, timestamp: ready.timestamp + 1, prevError: { code: "rate-limited", message: "slow" } };
    expect(feed(mirror, stateMessages(failed))).toEqual([
      { event: "account.state", payload: failed },
      { event: "sync.failed", payload: { account: "jane", code: "rate-limited", message: "slow" } },
    ]);
    expect(mirror.snapshot()?.state).toEqual(failed);
  });
});

describe("AccountMirror: payloads it does not apply", () => {
  const invalid: Array<[string, string, string]> = [
    ["state: not JSON", "i2m/jane/state", "{"],
    ["state: another account's", "i2m/jane/state", JSON.stringify({ ...FULL.state, account: "someone-else" })],
    ["state: an unknown state", "i2m/jane/state", JSON.stringify({ ...FULL.state, state: "exploded" })],
    ["device: a wrong type", "i2m/jane/devices/dev-1", JSON.stringify({ ...iphone, battery_percent: "full" })],
    ["device: on another device's topic", "i2m/jane/devices/dev-2", JSON.stringify(iphone)],
    ["latest photo: not an icpl.asset", "i2m/jane/photos/latest", JSON.stringify({ ...FAKE_ASSET, data_type: "x" })],
    ["thumbnail: not a JPEG", "i2m/jane/photos/latest/thumbnail", "GIF89a"],
    ["photo event: another event type", "i2m/jane/photos/event", JSON.stringify({ event_type: "x", ...FAKE_ASSET })],
    ["photo event: not an asset", "i2m/jane/photos/event", JSON.stringify({ event_type: "new_photo", id: "x" })],
    ["photo count: negative", "i2m/jane/photos/count", "-1"],
    ["last call: a wrong date", "i2m/jane/calls/last", JSON.stringify({ ...FAKE_CALL, date: "yesterday" })],
    ["call event: no event type", "i2m/jane/calls/event", JSON.stringify({ ...FAKE_CALL })],
    ["birthdays: no count", "i2m/jane/contacts/birthdays_today", JSON.stringify({ date: "2026-12-01", contacts: [] })],
    ["contacts count: not a number", "i2m/jane/contacts/count", "many"],
    ["next event: not an event", "i2m/jane/calendar/next", JSON.stringify({ title: "x" })],
    ["today: events not a list", "i2m/jane/calendar/today", JSON.stringify({ date: "x", count: 1, events: {} })],
    ["note event: unknown type", "i2m/jane/notes/event", JSON.stringify({ event_type: "x", ...NOTE })],
    ["note event: not a note", "i2m/jane/notes/event", JSON.stringify({ event_type: "created", id: "x" })],
    ["notes count: negative", "i2m/jane/notes/count", "-2"],
  ];

  it.each(invalid)("%s: invalid, nothing changes", (_label, topic, payload) => {
    const mirror = mirrorOf(FULL);
    const receipt = mirror.receive(ctx, { topic, payload: Buffer.from(payload), retained: false });
    expect(receipt.kind).toBe("invalid");
    expect(mirror.snapshot()).toEqual(FULL);
  });

  it("ignores topics that are not the account's", () => {
    const mirror = mirrorOf(FULL);
    for (const topic of ["i2m/jane/availability", "i2m/jane/devices/a/b", "i2m/joe/state", "i2m/jane/unknown"]) {
      expect(mirror.receive(ctx, { topic, payload: Buffer.from("x"), retained: true }), topic).toEqual({
        kind: "ignored",
      });
    }
  });
});
