import type { HttpServiceView } from "../../../http/service-view.ts";
import type { NotesSnapshot } from "./events.ts";

/** Notes in the HTTP API and on the web page: the count and the most recently changed notes (titles, no bodies). */
export const notesHttp: HttpServiceView<NotesSnapshot> = {
  view: (snapshot) => ({ count: snapshot.count, recent: snapshot.recent }),
  files: {},
};
