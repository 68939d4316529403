// Shared helpers for the icloud2mqtt web UI. Every URL is relative to <base href>, which the
// server sets to its base path (or Home Assistant's ingress path).

const ACCOUNT_KEY = "icloud2mqtt.account";

/** The account chosen with ?account=, remembered across pages. */
export function currentAccount() {
  const fromUrl = new URLSearchParams(location.search).get("account");
  if (fromUrl) {
    localStorage.setItem(ACCOUNT_KEY, fromUrl);
    return fromUrl;
  }
  return localStorage.getItem(ACCOUNT_KEY) ?? "";
}

/** Builds "api/<path>?account=…&…" for the current account. */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  const account = currentAccount();
  if (account) query.set("account", account);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  const text = query.toString();
  return `api/${path}${text ? `?${text}` : ""}`;
}

/** fetch() that always resolves: {ok, status, data} with data the parsed JSON (or null). */
export async function call(path, { method = "GET", params = {}, body } = {}) {
  try {
    const init = { method, headers: { accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const response = await fetch(apiUrl(path, params), init);
    if (response.status === 401) {
      location.href = "login";
      return { ok: false, status: 401, data: { message: "Please log in" } };
    }
    const data = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { message: `Connection lost: ${error.message}` } };
  }
}

export function formatTime(ms) {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toLocaleString();
}

/** Shows a message in a live region (no HTML interpretation). */
export function say(element, text, kind = "info") {
  element.textContent = text;
  element.dataset.kind = kind;
}

/** Fills the account <select> and keeps links carrying ?account=. */
export async function setupAccounts(select, onChange) {
  const { ok, data } = await call("accounts");
  if (!ok || !Array.isArray(data)) return;
  select.replaceChildren();
  let chosen = currentAccount();
  if (!data.some((a) => a.id === chosen)) chosen = data[0]?.id ?? "";
  for (const account of data) {
    const option = document.createElement("option");
    option.value = account.id;
    option.textContent = `${account.id} (${account.state})`;
    select.append(option);
  }
  select.value = chosen;
  localStorage.setItem(ACCOUNT_KEY, chosen);
  updateLinks(chosen);
  select.parentElement.hidden = data.length < 2;
  select.addEventListener("change", () => {
    localStorage.setItem(ACCOUNT_KEY, select.value);
    const url = new URL(location.href);
    url.searchParams.set("account", select.value);
    history.replaceState(null, "", url);
    updateLinks(select.value);
    onChange?.(select.value);
  });
}

function updateLinks(account) {
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    link.href = `${link.dataset.page}${account ? `?account=${encodeURIComponent(account)}` : ""}`;
  }
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Registers the service worker (relative URL, so its scope is the base path). */
export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return undefined;
  try {
    return await navigator.serviceWorker.register("service-worker.js");
  } catch {
    return undefined;
  }
}

/** Wires the "Enable notifications" button; hidden where Web Push is unavailable. */
export async function setupPush(button, status) {
  const registration = await registerWorker();
  if (!registration || !("PushManager" in window) || !("Notification" in window)) return;
  const key = await call("vapid-public-key");
  if (!key.ok) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        say(status, "Notifications were not allowed.", "error");
        return;
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(key.data.publicKey),
      });
      const result = await call("subscribe", { method: "POST", body: subscription.toJSON() });
      say(status, result.data?.message ?? "Could not subscribe", result.ok ? "ok" : "error");
    } catch (error) {
      say(status, `Notifications are not available: ${error.message}`, "error");
    }
  });
}
