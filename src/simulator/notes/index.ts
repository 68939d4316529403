export { NotesZone, type SimRecord } from "./notes-zone.ts";
export { createNotesRoutes, type NotesProbe, notesProbe } from "./routes.ts";
export { type NotesScenarioInput, NotesScenarioSchema, type ScenarioNoteInput } from "./scenario.ts";
