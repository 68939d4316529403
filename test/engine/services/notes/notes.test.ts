import { afterEach, describe, expect, it } from "vitest";
import { NOTES_OFF_MESSAGE } from "../../../../src/icloud/notes/notes-service.ts";
import { notesProbe } from "../../../../src/simulator/notes/index.ts";
import { cleanUp, type TestAccount } from "../../../support/harness.ts";
import { serviceEngine } from "../../../support/service-engine.ts";

/** The notes service in the engine against the simulator: count, change events, bodies kept private. */

const DSID = "20000000601";
const ACCOUNT: TestAccount = { appleId: "notes@example.com", password: "notes-pw", code: "141421", dsid: DSID };

afterEach(cleanUp);

const NOTES = [
  {
    id: "N-RECIPE",
    title: "Borscht",
    body: "Secret ingredient: smoked paprika",
    folder: "Recipes",
    modified: "2026-11-20T10:00:00Z",
    attachments: [{ filename: "pot.jpg", uti: "public.jpeg" }],
  },
  { id: "N-LOCKED", title: "Door codes", body: "0000-private", locked: true, modified: "2026-11-21T10:00:00Z" },
  { id: "N-PLAIN", title: "Ideas", body: "Paint the fence", modified: "2026-11-22T10:00:00Z" },
  { id: "N-BIN", title: "Old", body: "bin body", deleted: true },
];

function notes(settings: Record<string, unknown> = {}, spec: Record<string, unknown> | null = null) {
  return serviceEngine({
    account: ACCOUNT,
    id: "nb",
    spec: spec ?? { notes: { folders: ["Notes", "Recipes"], notes: NOTES, generate: { count: 5, seed: 9 } } },
    settings: { notes: { enabled: true, schedule: "1h", ...settings } },
    events: ["note.changed", "notes.count", "sync.failed"],
  });
}

describe("engine: notes (mme_notes.notes)", () => {
  it("first sync: the count (locked notes included, deleted ones not), no change events", async () => {
    const { engine, events } = await notes();
    // 3 listed notes + 5 generated, one of which (the third) is in Recently Deleted.
    expect(engine.snapshot("nb").notes.count).toBe(7);
    expect(events).toEqual([{ name: "notes.count", payload: { account: "nb", count: 7 } }]);
    const recent = engine.snapshot("nb").notes.recent;
    expect(recent.every((note) => note.text === null)).toBe(true);
    expect(recent.find((note) => note.id === "N-LOCKED")).toMatchObject({ locked: true, title: "Door codes" });
    expect(recent.find((note) => note.id === "N-RECIPE")).toMatchObject({
      folder: "Recipes",
      attachments: [{ data_type: "image", extension: "jpg", filename: "pot.jpg" }],
    });
  });

  it("each created, updated and deleted note is one event (titles only), with one changes/zone", async () => {
    const { engine, events, mark, routesSince } = await notes();
    events.length = 0;
    const probe = notesProbe(DSID);
    const added = probe.add({ title: "Packing list", body: "Passport", folder: "Notes" });
    probe.edit("N-PLAIN", { body: "Paint the fence green" });
    probe.trash("N-RECIPE");
    const before = mark();
    await engine.execute("sync", { data_types: ["mme_notes.notes"] });
    expect(routesSince(before)).toEqual(["notes.changes.zone"]);
    const changes = events
      .filter((e) => e.name === "note.changed")
      .map((e) => e.payload as { change: string; note: { id: string; text: unknown } });
    expect(changes.map((c) => [c.change, c.note.id])).toEqual(
      expect.arrayContaining([
        ["created", added],
        ["updated", "N-PLAIN"],
        ["deleted", "N-RECIPE"],
      ]),
    );
    expect(changes).toHaveLength(3);
    expect(changes.every((c) => c.note.text === null)).toBe(true);
    expect(events.filter((e) => e.name === "notes.count")).toEqual([]);
    expect(engine.snapshot("nb").notes.count).toBe(7);

    events.length = 0;
    await engine.execute("sync", { data_types: ["mme_notes.notes"] });
    expect(events).toEqual([]);
  });

  it("publish_body puts plain-text bodies into events (never for locked notes)", async () => {
    const { engine, events } = await notes({ publish_body: true });
    events.length = 0;
    notesProbe(DSID).edit("N-PLAIN", { body: "Paint it blue" });
    notesProbe(DSID).edit("N-LOCKED", { title: "Door codes (new)" });
    await engine.execute("sync", { data_types: ["mme_notes.notes"] });
    const byId = new Map(
      events
        .filter((e) => e.name === "note.changed")
        .map((e) => {
          const { note } = e.payload as { note: { id: string; text: unknown } };
          return [note.id, note.text];
        }),
    );
    expect(byId.get("N-PLAIN")).toBe("Ideas\nPaint it blue");
    expect(byId.has("N-LOCKED")).toBe(true);
    expect(byId.get("N-LOCKED")).toBeNull();
  });

  it("a refused sync token reads the zone again and announces only what changed", async () => {
    const { engine, events } = await notes();
    events.length = 0;
    notesProbe(DSID).resetTokens();
    notesProbe(DSID).expunge("N-PLAIN");
    await engine.execute("sync", { data_types: ["mme_notes.notes"] });
    expect(events.map((e) => [e.name, (e.payload as { change?: string }).change])).toEqual([
      ["note.changed", "deleted"],
      ["notes.count", undefined],
    ]);
    expect(engine.snapshot("nb").notes.count).toBe(6);
  });

  it("list_notes returns bodies (none for locked notes); note_attachment an attachment's bytes", async () => {
    const { engine } = await notes();
    const { notes: all } = await engine.execute("list_notes", {});
    expect(all).toHaveLength(7);
    const recipe = all.find((note) => note.id === "N-RECIPE");
    expect(recipe?.text).toBe("Borscht\nSecret ingredient: smoked paprika");
    expect(all.find((note) => note.id === "N-LOCKED")).toMatchObject({ locked: true, text: null });
    expect((await engine.execute("list_notes", { folder: "Recipes" })).notes.map((n) => n.id)).toContain("N-RECIPE");
    const file = await engine.execute("note_attachment", { file: recipe?.attachments[0]?.id ?? "" });
    expect(file).toMatchObject({ content_type: "image/jpeg", extension: "jpg" });
    expect(Buffer.from(file.data, "base64").subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it("never logs note titles or bodies", async () => {
    const { engine, log } = await notes({ publish_body: true });
    notesProbe(DSID).edit("N-PLAIN", { body: "Very private words" });
    await engine.execute("sync", { data_types: ["mme_notes.notes"] });
    await engine.execute("list_notes", {});
    expect(log.lines.length).toBeGreaterThan(0);
    for (const text of [
      "smoked paprika",
      "0000-private",
      "Very private words",
      "Borscht",
      "Door codes",
      "Paint the fence",
    ])
      expect(log.text).not.toContain(text);
  });

  it("an account without Notes: unavailable with the reason, no sync.failed", async () => {
    const { engine, events } = await notes({}, {});
    expect(engine.snapshot("nb").state.services.notes).toMatchObject({
      enabled: true,
      available: false,
      message: NOTES_OFF_MESSAGE,
    });
    expect(events).toEqual([]);
  });
});
