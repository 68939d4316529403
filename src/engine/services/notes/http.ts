import type { HttpServiceView } from "../../../http/service-view.ts";
import type { NotesSnapshot } from "./events.ts";

/** Notes in the HTTP API and on the web page: the count and the most recently changed notes (titles, no bodies). */
export const notesHttp: HttpServiceView<NotesSnapshot> = {
  view: (snapshot) => ({ count: snapshot.count, recent: snapshot.recent }),
  card: (snapshot) => ({
    facts: [{ label: "Notes", value: snapshot.count, format: "number" }],
    itemsTitle: "Recently changed",
    items: snapshot.recent.map((note) => ({
      id: note.id,
      title: note.locked ? "Locked note" : note.title,
      ...(note.folder === null ? {} : { subtitle: note.folder }),
      facts: [{ label: "Changed", value: note.modified, format: "time" as const }],
      badges: note.locked ? [{ text: "Locked", tone: "muted" as const }] : [],
    })),
    empty: "No notes yet.",
  }),
  files: {},
};
