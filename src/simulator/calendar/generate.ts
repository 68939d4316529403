import { addDays } from "../../icloud/calendar/time-zone.ts";
import { type ScenarioEvent, WEEKDAYS } from "./scenario.ts";

const at = (date: string, time: string) => `${date}T${time}`;

/**
 * A believable week around `today` (the local date in the section's zone, which events without their
 * own take): recurring, single, all-day and
 * multi-day events, one kept in another zone, titles in several scripts. `calendars` are the titles
 * (the first is "home", the second "work" when there is one).
 */
export function generateEvents(today: string, calendars: readonly string[]): ScenarioEvent[] {
  const home = calendars[0];
  const work = calendars[1] ?? home;
  const weekday = WEEKDAYS[new Date(`${today}T00:00:00Z`).getUTCDay()] ?? "MO";
  const tomorrowWeekday = WEEKDAYS[new Date(`${addDays(today, 1)}T00:00:00Z`).getUTCDay()] ?? "TU";
  const e = (event: Omit<ScenarioEvent, "duration_minutes"> & { duration_minutes?: number }): ScenarioEvent => ({
    duration_minutes: 60,
    ...event,
  });
  return [
    e({
      calendar: work,
      title: "Team stand-up",
      start: at(addDays(today, -28), "09:30"),
      duration_minutes: 15,
      location: "Room 4.01",
      repeat: { freq: "weekly", interval: 1, by_day: ["MO", "TU", "WE", "TH", "FR"] },
    }),
    e({ calendar: home, title: "Early run", start: at(today, "06:30"), duration_minutes: 30, location: "Park" }),
    e({ calendar: home, title: "Lunch — Mittagessen", start: at(today, "12:30"), location: "Café Zoë" }),
    e({ calendar: home, title: "Late show", start: at(today, "23:30"), duration_minutes: 90, location: "Kino" }),
    e({
      calendar: home,
      title: "Dentist",
      start: at(addDays(today, 1), "14:00"),
      duration_minutes: 45,
      location: "Praxis Dr. Müller, Hauptstraße 5",
    }),
    e({
      calendar: work,
      title: "Call with the New York office",
      start: at(addDays(today, -14), "10:00"),
      duration_minutes: 30,
      time_zone: "America/New_York",
      repeat: { freq: "weekly", interval: 1, by_day: [tomorrowWeekday] },
    }),
    e({
      calendar: home,
      title: "Yoga",
      start: at(addDays(today, -7), "18:00"),
      repeat: { freq: "weekly", interval: 1, by_day: [weekday], count: 12 },
    }),
    e({
      calendar: work,
      title: "Monthly review",
      start: at(addDays(today, 2), "10:00"),
      repeat: { freq: "monthly", interval: 1 },
    }),
    e({
      calendar: home,
      title: "Mum's birthday 🎂",
      start: addDays(today, 2),
      repeat: { freq: "yearly", interval: 1 },
    }),
    e({
      calendar: home,
      title: "Trip to Kyoto — 京都",
      start: addDays(today, 3),
      end: addDays(today, 5),
      location: "京都",
    }),
    e({ calendar: home, title: "Встреча с друзьями", start: at(addDays(today, 4), "19:00"), duration_minutes: 120 }),
    e({ calendar: work, title: "Quarterly planning", start: at(addDays(today, 6), "13:00"), duration_minutes: 180 }),
  ];
}
