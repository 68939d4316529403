import { call, say, setupAccounts } from "./common.js";

const $ = (id) => document.getElementById(id);
const status = $("status");
let busy = false;
let timer;
/** Legacy two-step codes are 4 digits (the server takes 4 to 8); two-factor codes are 6. */
let twoStep = false;

/** Same rule as the server: a two-factor code request lists the trusted numbers, a two-step one does not. */
function awaitsTwoStepCode(state) {
  const info = state.session?.error_info;
  if (!info) return false;
  if (typeof info.method === "string") return info.method === "2sv";
  return info.trusted_phone_numbers === undefined;
}

function setCodeKind(state) {
  twoStep = awaitsTwoStepCode(state);
  const input = $("code");
  input.maxLength = twoStep ? 8 : 6;
  input.pattern = twoStep ? "[0-9]{4,8}" : "[0-9]{6}";
  $("code-label").textContent = twoStep
    ? "Verification code sent to the chosen device"
    : "Six-digit code from your Apple device or SMS";
  $("code-help").textContent = twoStep
    ? "You can paste the code; it is sent as soon as four digits are entered."
    : "You can paste the code; it is sent as soon as six digits are entered.";
}

const codeOk = (code) => (twoStep ? /^\d{4,8}$/ : /^\d{6}$/).test(code);

function fillPhones(state) {
  const phones = state.trustedPhoneNumbers?.length
    ? state.trustedPhoneNumbers
    : [{ id: 1, maskedNumber: "Default number" }];
  const select = $("phone");
  const previous = select.value;
  select.replaceChildren();
  for (const phone of phones) {
    const option = document.createElement("option");
    option.value = String(phone.id);
    option.textContent = phone.maskedNumber;
    select.append(option);
  }
  if (phones.some((p) => String(p.id) === previous)) select.value = previous;
}

function fillChoices(state) {
  const box = $("choices");
  box.replaceChildren();
  for (const choice of state.session?.error_info?.choices ?? []) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = choice;
    button.addEventListener("click", async () => {
      const { ok, data } = await call("choice", { method: "POST", params: { choice } });
      say(status, data?.message ?? "Request failed", ok ? "ok" : "error");
      await refresh();
    });
    box.append(button);
  }
}

async function refresh() {
  clearTimeout(timer);
  const { ok, data } = await call("state");
  if (ok) {
    const blocked = data.state === "blocked";
    const choice = blocked && data.session?.error === "choice-required";
    $("not-blocked").hidden = blocked;
    $("code-section").hidden = !blocked || choice;
    if (blocked && !choice) setCodeKind(data);
    // a legacy two-step code cannot be re-sent by SMS or voice: re-authenticate to choose again
    $("resend-section").hidden = !blocked || choice || twoStep;
    $("choice-section").hidden = !choice;
    if (blocked && !choice) fillPhones(data);
    if (choice) fillChoices(data);
    document.body.dataset.state = data.state;
  } else {
    say(status, data?.message ?? "Cannot load the state", "error");
  }
  timer = setTimeout(refresh, 3000);
}

async function submitCode() {
  const input = $("code");
  const code = input.value.replace(/\D/g, "");
  if (!codeOk(code)) {
    say(status, twoStep ? "Please enter the digits of the code." : "Please enter the six digits of the code.", "error");
    input.focus();
    return;
  }
  if (busy) return;
  busy = true;
  $("submit-code").disabled = true;
  say(status, "Checking the code…");
  const { ok, data } = await call("mfa", { method: "POST", params: { code } });
  busy = false;
  $("submit-code").disabled = false;
  input.value = "";
  say(status, ok ? "Code accepted." : (data?.message ?? "The code was not accepted."), ok ? "ok" : "error");
  await refresh();
}

const input = $("code");
input.addEventListener("input", () => {
  const digits = input.value.replace(/\D/g, "").slice(0, twoStep ? 8 : 6);
  if (digits !== input.value) input.value = digits;
  if (digits.length === (twoStep ? 4 : 6)) void submitCode();
});
input.addEventListener("paste", (event) => {
  const digits = (event.clipboardData?.getData("text") ?? "").replace(/\D/g, "");
  if (codeOk(digits)) {
    event.preventDefault();
    input.value = digits;
    void submitCode();
  }
});
$("code-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void submitCode();
});
for (const radio of document.querySelectorAll('input[name="method"]')) {
  radio.addEventListener("change", () => {
    $("phone-row").hidden = radio.value === "device" || !radio.checked;
  });
}
$("resend-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const method = document.querySelector('input[name="method"]:checked')?.value ?? "device";
  const params = method === "device" ? { method } : { method, phoneNumberId: $("phone").value };
  const { ok, data } = await call("resend_mfa", { method: "POST", params });
  say(status, data?.message ?? "Request failed", ok ? "ok" : "error");
});
await setupAccounts($("account"), refresh);
await refresh();
