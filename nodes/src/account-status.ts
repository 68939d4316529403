import { type AccountState, ERROR_CODES, type ErrorCode } from "icloud2mqtt/engine";

/** A Node-RED node status (`node.status(...)`): the coloured dot or ring under a node in the editor. */
export interface NodeStatus {
  fill: "red" | "green" | "yellow" | "blue" | "grey";
  shape: "dot" | "ring";
  text: string;
}

/** Node-RED shows status texts under the node: keep them short. */
const MAX_TEXT = 40;

function short(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The short ricloud-style name of an engine error code (`RATE_LIMITED` → `rate-limited`). */
export function errorName(code: string): string {
  return isErrorCode(code) ? ERROR_CODES[code].session : code.toLowerCase();
}

/**
 * The status every node of an account shows for the engine's account state: what needs the user first
 * (a two-factor code to enter, a failed or expired sign-in, iCloud web access turned off), then work in
 * progress, the last error, and finally "ready". Colours: green ready, blue ring signing in or syncing,
 * yellow ring code needed, red sign-in failed or web access disabled (grey is `bridgeOffline`).
 */
export function accountStatus(state: AccountState): NodeStatus {
  const { session } = state;
  // Blocked: the sign-in stopped (session "failed" with code-required or choice-required) until the user answers.
  if (state.state === "blocked") {
    if (session.error === "choice-required")
      return { fill: "yellow", shape: "ring", text: "choose where to send the code" };
    const method = session.error_info?.method;
    const where = method === undefined ? "" : method === "2sv" ? " (2SV)" : ` (${method})`;
    return { fill: "yellow", shape: "ring", text: `code needed${where}` };
  }
  if (session.state === "failed") {
    if (session.error === ERROR_CODES.WEB_ACCESS_DISABLED.session)
      return { fill: "red", shape: "ring", text: "iCloud web access is off (ADP)" };
    return { fill: "red", shape: "ring", text: short(`sign-in failed: ${session.error ?? "unknown error"}`) };
  }
  if (session.state === "expired") return { fill: "red", shape: "ring", text: "session expired: sign in again" };
  if (session.state === "pending") return { fill: "blue", shape: "ring", text: "signing in" };
  if (state.state === "running") {
    return { fill: "blue", shape: "ring", text: short(state.progressMsg ?? "syncing") };
  }
  if (state.prevError !== null) {
    return { fill: "red", shape: "dot", text: short(`error: ${errorName(state.prevError.code)}`) };
  }
  return { fill: "green", shape: "dot", text: "ready" };
}

/** Bridge mode: the MQTT broker or the icloud2mqtt behind it cannot be reached. */
export function bridgeOffline(why = "bridge offline"): NodeStatus {
  return { fill: "grey", shape: "ring", text: short(why) };
}

/** Until the account's engine has started (or when the node has no account). */
export function notStarted(text: string): NodeStatus {
  return { fill: "grey", shape: "dot", text: short(text) };
}

export { short as shortStatusText };
