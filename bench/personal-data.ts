/**
 * Contacts, calendar and notes benchmark (not a timed test): prints one JSON document on stdout.
 *
 * - contacts: time and requests to read a 10 000-card address book (pages of 500), then to see one
 *   added card with the sync token.
 * - notes: time and requests to read 5 000 notes with their bodies (decompressed and decoded), then to
 *   see one edited note with the sync token.
 * - calendar: time to read a year of a busy calendar (daily and weekly series expanded) in one request.
 */
import { CalendarService } from "../src/icloud/calendar/calendar-service.ts";
import { ContactsService } from "../src/icloud/contacts/contacts-service.ts";
import { noteText } from "../src/icloud/notes/map-note.ts";
import { NotesService } from "../src/icloud/notes/notes-service.ts";
import { ICloudSession } from "../src/icloud/session.ts";
import { calendarProbe } from "../src/simulator/calendar/index.ts";
import { contactsProbe } from "../src/simulator/contacts/index.ts";
import { notesProbe } from "../src/simulator/notes/index.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";

const DSID = "30000000001";
const scenario = parseScenario({
  accounts: [
    {
      apple_id: "bench@example.com",
      password: "pw",
      dsid: DSID,
      mfa: { kind: "none" },
      contacts: { generate: { count: 10_000, seed: 1 } },
      notes: { generate: { count: 5_000, seed: 1 } },
      calendar: { time_zone: "Europe/Berlin" },
    },
  ],
});

const sim = await startSimulator({ scenario, services: [...SIMULATOR_SERVICES] });
const session = new ICloudSession({ username: "bench@example.com", password: "pw", endpoint: sim.url });
await session.signIn();
const requests = () => sim.requests().length;
const timed = async <T>(run: () => Promise<T>) => {
  const before = requests();
  const start = performance.now();
  const value = await run();
  return { value, ms: Math.round(performance.now() - start), requests: requests() - before };
};

const contacts = new ContactsService(session);
const all = await timed(() => contacts.readAll());
contactsProbe(DSID).add({ first_name: "New" });
const change = await timed(() => contacts.changes(all.value.tokens));

const notes = new NotesService(session);
const feed = await timed(async () => {
  const read = await notes.changes(undefined, { bodies: true });
  let chars = 0;
  for (const record of read?.records ?? []) if (record.kind === "note") chars += noteText(record)?.length ?? 0;
  return { read, chars };
});
const edited = notesProbe(DSID).zone.notes()[10]?.recordName ?? "";
notesProbe(DSID).edit(edited, { body: "edited" });
const noteChange = await timed(() => notes.changes(feed.value.read?.token, { bodies: true }));

const probe = calendarProbe(DSID);
for (let i = 0; i < 10; i++)
  probe.add({
    title: `Daily ${i}`,
    start: `2027-01-01T${String(8 + i).padStart(2, "0")}:00`,
    repeat: { freq: "daily" },
  });
for (let i = 0; i < 20; i++)
  probe.add({
    title: `Weekly ${i}`,
    start: "2027-01-04T10:00",
    repeat: { freq: "weekly", by_day: ["MO", "WE", "FR"] },
  });
const calendar = new CalendarService(session);
const calendars = await calendar.calendars("Europe/Berlin", "2027-01-01");
const year = await timed(() => calendar.events({ from: "2027-01-01", to: "2027-12-31" }, "Europe/Berlin", calendars));

process.stdout.write(
  `${JSON.stringify(
    {
      contacts: {
        read_all: { cards: all.value.cards.length, ms: all.ms, requests: all.requests },
        one_added: {
          changed: change.value.kind === "changes" ? change.value.changed.length : -1,
          ms: change.ms,
          requests: change.requests,
        },
      },
      notes: {
        read_all: {
          records: feed.value.read?.records.length,
          body_chars: feed.value.chars,
          ms: feed.ms,
          requests: feed.requests,
        },
        one_edited: { records: noteChange.value?.records.length, ms: noteChange.ms, requests: noteChange.requests },
      },
      calendar: { year: { occurrences: year.value.length, ms: year.ms, requests: year.requests } },
    },
    null,
    2,
  )}\n`,
);
await sim.close();
