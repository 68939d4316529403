// Renders every service's dashboard card from GET /api/services, whatever the service: facts, an
// image, a list of items with badges and buttons, and a map for items with a location (see
// src/http/service-view.ts for the card's shape). Text is always set as text, never as HTML.

import { apiUrl, call, say } from "./common.js";
import { CardMap, mapLink, mapWanted } from "./map.js";

const maps = new Map();

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "role") node.setAttribute("role", value);
    else if (value !== undefined && value !== null) node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function formatTime(iso) {
  const date = new Date(iso);
  const minutes = Math.round((Date.now() - date.getTime()) / 60000);
  const relative =
    Math.abs(minutes) < 1
      ? "just now"
      : minutes > 0 && minutes < 120
        ? `${minutes} min ago`
        : minutes < 0 && minutes > -120
          ? `in ${-minutes} min`
          : null;
  const text = date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
  return relative ? `${text} (${relative})` : text;
}

export function formatValue({ value, format }) {
  if (value === null || value === undefined) return "—";
  switch (format) {
    case "time":
      return formatTime(value);
    case "percent":
      return `${value} %`;
    case "distance":
      return value >= 10000
        ? `${(value / 1000).toFixed(0)} km`
        : value >= 1000
          ? `${(value / 1000).toFixed(1)} km`
          : `${value} m`;
    case "yes-no":
      return value ? "yes" : "no";
    case "number":
      return Number(value).toLocaleString();
    default:
      return String(value);
  }
}

function facts(list) {
  const dl = el("dl", { className: "facts" });
  for (const fact of list ?? [])
    dl.append(el("dt", { textContent: fact.label }), el("dd", { textContent: formatValue(fact) }));
  return dl;
}

function badges(list) {
  if (!list?.length) return null;
  const p = el("p", { className: "badges" });
  for (const badge of list) p.append(el("span", { className: `badge ${badge.tone}`, textContent: badge.text }));
  return p;
}

function status(service) {
  const s = service.status ?? {};
  const parts = [];
  if (s.last_sync) parts.push(`last sync ${formatTime(s.last_sync)}`);
  if (s.next_sync) parts.push(`next ${formatTime(s.next_sync)}`);
  const line = el("p", {
    className: "sync-status",
    textContent: parts.length ? `Synced: ${parts.join(", ")}` : "Not synced yet",
  });
  if (s.message) line.append(el("span", { className: "error", textContent: ` – ${s.message}` }));
  line.dataset.problem = s.message ? "yes" : "no";
  return line;
}

async function run(key, button, output) {
  if (button.confirm && !window.confirm(button.confirm)) return;
  const { ok, data } = await call(`services/${key}/${button.command}`, { method: "POST", body: button.input });
  say(output, ok ? `${button.label}: done` : (data?.message ?? `${button.label} failed`), ok ? "ok" : "error");
}

function item(key, entry, output) {
  const li = el("li", { className: "item", dataset: { id: entry.id } });
  li.append(el("h4", { textContent: entry.title }));
  if (entry.subtitle) li.append(el("p", { className: "subtitle", textContent: entry.subtitle }));
  li.append(badges(entry.badges) ?? "", facts(entry.facts));
  const actions = el("div", { className: "actions" });
  for (const button of entry.buttons ?? []) {
    const b = el("button", { type: "button", textContent: button.label });
    b.setAttribute("aria-label", `${button.label}: ${entry.title}`);
    b.addEventListener("click", () => run(key, button, output));
    actions.append(b);
  }
  if (entry.location) {
    actions.append(
      el("a", { href: mapLink(entry.location), target: "_blank", rel: "noopener noreferrer", textContent: "Open map" }),
    );
  }
  if (actions.childElementCount > 0) li.append(actions);
  return li;
}

function renderCard(key, service, section) {
  const card = service.card ?? {};
  const output = el("p", { role: "status", className: "card-status" });
  output.setAttribute("aria-live", "polite");
  const previous = section.querySelector(".card-status");
  if (previous) say(output, previous.textContent, previous.dataset.kind);
  const content = [el("h2", { textContent: service.title }), status(service)];
  if (card.facts?.length) content.push(facts(card.facts));
  if (card.image) {
    const src = apiUrl(`services/${key}/${card.image.file}`, { v: card.image.version });
    content.push(el("img", { className: "card-image", src, alt: card.image.alt }));
  }
  const items = card.items ?? [];
  const located = items.filter((i) => i.location);
  let mapBox = section.querySelector(".map");
  if (located.length > 0 && mapWanted() && mapBox?.dataset.tiles !== "failed") {
    if (!mapBox) mapBox = el("div", { className: "map", role: "region" });
    mapBox.setAttribute("aria-label", `${service.title} map`);
    content.push(mapBox);
    let map = maps.get(key);
    if (!map) {
      map = new CardMap(mapBox, () => {
        mapBox.hidden = true;
        section.querySelector(".map-note")?.removeAttribute("hidden");
      });
      maps.set(key, map);
    }
    map.update(located).catch(() => {
      mapBox.hidden = true;
    });
  } else if (mapBox && located.length === 0) {
    maps.get(key)?.remove();
    maps.delete(key);
  }
  if (located.length > 0) {
    const note = el("p", {
      className: "help map-note",
      textContent: "The map needs a connection; each location has a map link.",
    });
    note.hidden = mapWanted() && mapBox?.dataset.tiles !== "failed";
    content.push(note);
  }
  if (items.length > 0) {
    if (card.itemsTitle) content.push(el("h3", { textContent: card.itemsTitle }));
    const list = el("ul", { className: "items" });
    for (const entry of items) list.append(item(key, entry, output));
    content.push(list);
  } else if (!card.image && card.empty) {
    content.push(el("p", { className: "help", textContent: card.empty }));
  }
  content.push(output);
  // The map's element is moved, not re-created, so Leaflet keeps its state.
  section.replaceChildren(...content);
}

/** Renders `services` (the `services` of GET /api/services) into `container`, one section per service. */
export function renderServices(container, services) {
  const keys = Object.keys(services);
  for (const section of [...container.children]) {
    if (!keys.includes(section.dataset.service)) {
      maps.get(section.dataset.service)?.remove();
      maps.delete(section.dataset.service);
      section.remove();
    }
  }
  for (const key of keys) {
    let section = container.querySelector(`section[data-service="${CSS.escape(key)}"]`);
    if (!section) {
      section = el("section", { className: "card service", dataset: { service: key } });
      container.append(section);
    }
    renderCard(key, services[key], section);
  }
}

/** Forgets the maps (another account was chosen). */
export function resetServices(container) {
  for (const map of maps.values()) map.remove();
  maps.clear();
  container.replaceChildren();
}
