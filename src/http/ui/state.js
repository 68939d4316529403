import { call, formatTime, say, setupAccounts, setupPush } from "./common.js";

const $ = (id) => document.getElementById(id);
const SYMBOLS = { ready: "✓", running: "⟳", blocked: "⚠" };
const LABELS = { ready: "Ready", running: "Running", blocked: "Waiting for a verification code" };
let timer;

function render(state) {
  $("state-symbol").textContent = SYMBOLS[state.state] ?? "?";
  $("state-text").textContent = LABELS[state.state] ?? state.state;
  document.body.dataset.state = state.state;
  $("progress-msg").textContent = state.progressMsg ?? "";
  const progress = $("progress");
  progress.hidden = state.state === "ready" || typeof state.progress !== "number";
  progress.value = state.progress ?? 0;
  $("next-sync").textContent = formatTime(state.nextSync);
  $("prev-error").textContent = state.prevError ? `${state.prevError.message} (${state.prevError.code})` : "none";
  const session = state.session ?? {};
  $("session").textContent = session.error ? `${session.state} – ${session.error}` : (session.state ?? "—");
  $("trust").textContent = session.trust_expires_at ? new Date(session.trust_expires_at).toLocaleString() : "—";
  $("timestamp").textContent = formatTime(state.timestamp);
  $("blocked-banner").hidden = state.state !== "blocked";
  $("sync").disabled = state.state !== "ready";
  $("reauth").disabled = state.state !== "ready";
  const services = $("services");
  services.replaceChildren();
  for (const [name, service] of Object.entries(state.services ?? {})) {
    const item = document.createElement("li");
    const detail = service.enabled ? (service.message ?? (service.available ? "available" : "unavailable")) : "off";
    item.textContent = `${name}: ${detail}${service.last_sync ? `, last sync ${new Date(service.last_sync).toLocaleString()}` : ""}`;
    services.append(item);
  }
}

async function refresh() {
  clearTimeout(timer);
  const { ok, data } = await call("state");
  if (ok) render(data);
  else say($("status"), data?.message ?? "Cannot load the state", "error");
  timer = setTimeout(refresh, ok && data.state === "ready" ? 5000 : 1000);
}

async function action(path) {
  const { ok, data } = await call(path, { method: "POST" });
  say($("status"), data?.message ?? "Request failed", ok ? "ok" : "error");
  await refresh();
}

$("sync").addEventListener("click", () => action("sync"));
$("reauth").addEventListener("click", () => action("reauthenticate"));
await setupAccounts($("account"), refresh);
await refresh();
await setupPush($("push"), $("status"));
