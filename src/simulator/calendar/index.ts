export { CalendarWorld, type SimCalendar, type SimEvent } from "./calendar-world.ts";
export { type CalendarProbe, calendarProbe, createCalendarRoutes } from "./routes.ts";
export { type CalendarScenarioInput, CalendarScenarioSchema, type ScenarioEventInput } from "./scenario.ts";
