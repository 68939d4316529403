import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentMeta, noteItem, noteSummary, noteText } from "../../../src/icloud/notes/map-note.ts";
import { NOTES_OFF_MESSAGE, NotesService } from "../../../src/icloud/notes/notes-service.ts";
import type { NoteRecord, NotesRecord } from "../../../src/icloud/notes/records.ts";
import { ICloudSession } from "../../../src/icloud/session.ts";
import { createNotesRoutes, notesProbe } from "../../../src/simulator/notes/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { startSim } from "../../support/harness.ts";

/** The Notes client against the simulator's Notes CloudKit container over real HTTP; nothing is mocked. */

const DSID = "10000000301";

const scenario = parseScenario({
  accounts: [
    {
      apple_id: "notes@example.com",
      password: "pw",
      dsid: DSID,
      mfa: { kind: "none" },
      notes: {
        folders: ["Notes", "Recipes"],
        notes: [
          {
            id: "NOTE-PANCAKES",
            title: "Pancakes",
            body: "200 g flour\n2 eggs\n300 ml milk",
            folder: "Recipes",
            created: "2026-10-01T08:00:00Z",
            modified: "2026-11-02T09:30:00Z",
            attachments: [
              { filename: "stack.jpg", uti: "public.jpeg" },
              { filename: "Grandma's card.pdf", uti: "com.adobe.pdf" },
            ],
          },
          { id: "NOTE-LOCKED", title: "Door codes", body: "1234", locked: true, modified: "2026-11-03T10:00:00Z" },
          { id: "NOTE-BIN", title: "Old list", body: "gone", deleted: true },
        ],
        generate: { count: 250, seed: 5 },
      },
    },
    { apple_id: "nonotes@example.com", password: "pw", mfa: { kind: "none" } },
  ],
});

let sim: SimulatorHandle;
const sessions = new Map<string, ICloudSession>();

beforeAll(async () => {
  sim = await startSim(scenario, { services: [createNotesRoutes], closeAtCleanup: false });
});
afterAll(async () => {
  await sim?.close();
});

async function session(appleId: string): Promise<ICloudSession> {
  const existing = sessions.get(appleId);
  if (existing) return existing;
  const created = new ICloudSession({ username: appleId, password: "pw", endpoint: sim.url });
  expect((await created.signIn()).state).toBe("active");
  sessions.set(appleId, created);
  return created;
}

const notesIn = (records: readonly NotesRecord[]) => records.filter((r): r is NoteRecord => r.kind === "note");

describe("iCloud Notes from the com.apple.notes CloudKit container", () => {
  it("reads the whole zone through changes/zone pages: folders, notes, attachments, bodies", async () => {
    const service = new NotesService(await session("notes@example.com"));
    const before = sim.requests().length;
    const read = await service.changes(undefined, { bodies: true });
    // 2 folders, 253 notes and their attachments: more than one page of 200.
    expect(
      sim
        .requests()
        .slice(before)
        .filter((r) => r.route === "notes.changes.zone").length,
    ).toBe(2);
    const records = read?.records ?? [];
    const notes = notesIn(records);
    expect(notes).toHaveLength(253);
    const folders = Object.fromEntries(records.flatMap((r) => (r.kind === "folder" ? [[r.recordName, r.title]] : [])));
    expect(Object.values(folders).sort()).toEqual(["Notes", "Recipes"]);
    const attachments = Object.fromEntries(
      records.flatMap((r) => (r.kind === "attachment" ? [[r.recordName, attachmentMeta(r)]] : [])),
    );

    const pancakes = notes.find((n) => n.recordName === "NOTE-PANCAKES") as NoteRecord;
    const item = noteItem(pancakes.recordName, noteSummary(pancakes), folders, attachments, noteText(pancakes));
    expect(item).toEqual({
      id: "NOTE-PANCAKES",
      data_type: "mme_notes.note",
      title: "Pancakes",
      folder: "Recipes",
      folder_id: pancakes.folderId,
      created: "2026-10-01T08:00:00.000Z",
      modified: "2026-11-02T09:30:00.000Z",
      locked: false,
      text: "Pancakes\n200 g flour\n2 eggs\n300 ml milk",
      attachments: [
        {
          id: `mme_notes_attachment://${pancakes.attachmentIds[0]}`,
          data_type: "image",
          extension: "jpg",
          filename: "stack.jpg",
          uti: "public.jpeg",
          size: expect.any(Number),
        },
        {
          id: `mme_notes_attachment://${pancakes.attachmentIds[1]}`,
          data_type: "file",
          extension: "pdf",
          filename: "Grandma's card.pdf",
          uti: "com.adobe.pdf",
          size: expect.any(Number),
        },
      ],
    });
    const locked = notes.find((n) => n.recordName === "NOTE-LOCKED") as NoteRecord;
    expect(locked).toMatchObject({ locked: true, title: "Door codes", body: null });
    expect(noteText(locked)).toBeNull();
    expect(notes.find((n) => n.recordName === "NOTE-BIN")?.deleted).toBe(true);
    // Without `bodies` no body travels.
    const titles = await service.changes(undefined);
    expect(notesIn(titles?.records ?? []).every((n) => n.body === null)).toBe(true);
  });

  it("follows the zone from its sync token with one request: new, edited, trashed and expunged notes", async () => {
    const service = new NotesService(await session("notes@example.com"));
    const token = (await service.changes(undefined))?.token ?? "";
    const probe = notesProbe(DSID);
    const added = probe.add({ title: "Новая заметка", body: "Текст", folder: "Notes" });
    probe.edit("NOTE-PANCAKES", { body: "250 g flour" });
    const generated = probe.zone
      .notes()
      .find((n) => n.type === "Note" && !n.deleted && n.recordName !== "NOTE-PANCAKES" && n.recordName !== added);
    probe.trash(generated?.recordName ?? "");
    probe.expunge("NOTE-BIN");

    const before = sim.requests().length;
    const changes = await service.changes(token, { bodies: true });
    expect(
      sim
        .requests()
        .slice(before)
        .map((r) => r.route),
    ).toEqual(["notes.changes.zone"]);
    const records = changes?.records ?? [];
    expect(records.map((r) => [r.kind, r.recordName])).toEqual([
      ["note", added],
      ["note", "NOTE-PANCAKES"],
      ["note", generated?.recordName],
      ["tombstone", "NOTE-BIN"],
    ]);
    const notes = notesIn(records);
    expect(noteText(notes[0] as NoteRecord)).toBe("Новая заметка\nТекст");
    expect(noteText(notes[1] as NoteRecord)).toBe("Pancakes\n250 g flour");
    expect(notes[2]?.deleted).toBe(true);
    const after = await service.changes(changes?.token);
    expect(after?.records).toEqual([]);
  });

  it("answers undefined when the service refuses the stored token (the caller reads the zone again)", async () => {
    const service = new NotesService(await session("notes@example.com"));
    const token = (await service.changes(undefined))?.token;
    notesProbe(DSID).resetTokens();
    expect(await service.changes(token)).toBeUndefined();
  });

  it("looks an attachment up for a fresh URL and fetches its bytes", async () => {
    const service = new NotesService(await session("notes@example.com"));
    const pancakes = notesProbe(DSID).zone.get("NOTE-PANCAKES");
    const [image, pdf] = await service.lookup(pancakes?.attachments ?? []);
    if (image?.kind !== "attachment" || pdf?.kind !== "attachment") throw new Error("expected attachments");
    const jpeg = await service.download(image.downloadUrl ?? "", image.filename ?? "");
    expect(jpeg.contentType).toBe("image/jpeg");
    expect([...jpeg.body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(jpeg.body.length).toBe(image.size);
    const document = await service.download(pdf.downloadUrl ?? "", pdf.filename ?? "");
    expect(document.body.toString("latin1")).toMatch(/^%PDF-1\.4/);
    expect(await service.lookup(["NO-SUCH-RECORD"])).toEqual([]);
  });

  it("re-validates an expired web session (401) and carries on", async () => {
    const service = new NotesService(await session("notes@example.com"));
    sim.clock.advance(2 * 3_600_000);
    const before = sim.requests().length;
    expect((await service.changes(undefined))?.records.length).toBeGreaterThan(250);
    const seen = sim.requests().slice(before);
    expect(seen.find((r) => r.route === "notes.changes.zone")?.status).toBe(401);
    expect(seen.some((r) => r.route === "setup.validate")).toBe(true);
  });

  it("says Notes is off when the account has no Notes zone", async () => {
    const service = new NotesService(await session("nonotes@example.com"));
    await expect(service.changes(undefined)).rejects.toMatchObject({
      code: "SERVICE_NOT_AVAILABLE",
      message: NOTES_OFF_MESSAGE,
    });
  });

  it("tells the user to allow web access when CloudKit answers ACCESS_DENIED", async () => {
    const service = new NotesService(await session("notes@example.com"));
    sim.faults.add({
      endpoint: "notes.changes.zone",
      kind: "status",
      status: 403,
      body: { serverErrorCode: "ACCESS_DENIED", reason: "private db access disabled for this account" },
      times: 1,
    });
    await expect(service.changes(undefined)).rejects.toMatchObject({ code: "WEB_ACCESS_DISABLED" });
  });
});
