import { call, say, setupAccounts } from "./common.js";

const $ = (id) => document.getElementById(id);
const LEVEL_KEY = "icloud2mqtt.loglevel";
let timer;

function row(entry) {
  const tr = document.createElement("tr");
  tr.className = `level-${entry.level}`;
  for (const text of [new Date(entry.time).toLocaleTimeString(), entry.level, entry.source, entry.message]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

async function refresh() {
  clearTimeout(timer);
  if (!$("pause").checked) {
    const { ok, data } = await call("log", { params: { loglevel: $("level").value } });
    if (ok && Array.isArray(data)) {
      $("lines").replaceChildren(...data.map(row));
      say($("status"), data.length === 0 ? "No log lines at this level." : `${data.length} lines`);
    } else {
      say($("status"), data?.message ?? "Cannot load the log", "error");
    }
  }
  timer = setTimeout(refresh, 2000);
}

const level = $("level");
level.value = localStorage.getItem(LEVEL_KEY) ?? "info";
level.addEventListener("change", () => {
  localStorage.setItem(LEVEL_KEY, level.value);
  void refresh();
});
$("log-controls").addEventListener("submit", (event) => event.preventDefault());
await setupAccounts($("account"), refresh);
await refresh();
