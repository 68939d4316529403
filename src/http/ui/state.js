import { renderServices, resetServices } from "./cards.js";
import { call, formatTime, say, setupAccounts, setupPush } from "./common.js";

const $ = (id) => document.getElementById(id);
const SYMBOLS = { ready: "✓", running: "⟳", blocked: "⚠" };
const LABELS = { ready: "Ready", running: "Running", blocked: "Waiting for a verification code" };
const DAY = 86_400_000;
/** Warn this long before Apple's trust in the sign-in ends (a new code is needed then). */
const TRUST_WARNING_DAYS = 7;
let timer;

function renderTrust(state) {
  const banner = $("trust-banner");
  const expires = state.session?.trust_expires_at ? new Date(state.session.trust_expires_at) : null;
  const left = expires ? (expires.getTime() - Date.now()) / DAY : Number.POSITIVE_INFINITY;
  banner.hidden = state.state === "blocked" || !(left <= TRUST_WARNING_DAYS);
  if (banner.hidden) return;
  if (left < 0) {
    banner.textContent = "Apple's trust in this sign-in has ended: the next sign-in will ask for a verification code.";
    return;
  }
  const days = Math.floor(left);
  const when = days === 0 ? "today" : days === 1 ? "tomorrow" : `in ${days} days`;
  banner.textContent = `Apple's trust in this sign-in ends ${when} (${expires.toLocaleString()}): iCloud will then ask for a new verification code.`;
}

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
  renderTrust(state);
  $("sync").disabled = state.state !== "ready";
  $("reauth").disabled = state.state !== "ready";
}

async function refresh() {
  clearTimeout(timer);
  const [state, services] = await Promise.all([call("state"), call("services")]);
  if (state.ok) render(state.data);
  else say($("status"), state.data?.message ?? "Cannot load the state", "error");
  if (services.ok) renderServices($("services"), services.data.services ?? {});
  timer = setTimeout(refresh, state.ok && state.data.state === "ready" ? 5000 : 1000);
}

async function action(path) {
  const { ok, data } = await call(path, { method: "POST" });
  say($("status"), data?.message ?? "Request failed", ok ? "ok" : "error");
  await refresh();
}

$("sync").addEventListener("click", () => action("sync"));
$("reauth").addEventListener("click", () => action("reauthenticate"));
// The map comes and goes with the connection.
for (const event of ["online", "offline"]) window.addEventListener(event, () => refresh());
await setupAccounts($("account"), () => {
  resetServices($("services"));
  return refresh();
});
await refresh();
await setupPush($("push"), $("status"));
