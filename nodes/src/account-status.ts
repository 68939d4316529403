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
 * The status an account node shows for the engine's account state: what needs the user first (a
 * two-factor code to enter, a failed or expired sign-in), then work in progress, the last error, and
 * finally "connected".
 */
export function accountStatus(state: AccountState): NodeStatus {
  const { session } = state;
  // Blocked: the sign-in stopped (session "failed" with code-required or choice-required) until the user answers.
  if (state.state === "blocked") {
    if (session.error === "choice-required")
      return { fill: "yellow", shape: "ring", text: "choose where to send the code" };
    const method = session.error_info?.method;
    const where = method === undefined ? "" : method === "2sv" ? " (2SV)" : ` (${method})`;
    return { fill: "yellow", shape: "ring", text: `waiting for code${where}` };
  }
  if (session.state === "failed") {
    return { fill: "red", shape: "ring", text: short(`sign-in failed: ${session.error ?? "unknown error"}`) };
  }
  if (session.state === "expired") return { fill: "red", shape: "ring", text: "session expired: sign in again" };
  if (session.state === "pending") return { fill: "grey", shape: "ring", text: "signing in" };
  if (state.state === "running") {
    return { fill: "blue", shape: "dot", text: short(state.progressMsg ?? "syncing") };
  }
  if (state.prevError !== null) {
    return { fill: "red", shape: "dot", text: short(`error: ${errorName(state.prevError.code)}`) };
  }
  return { fill: "green", shape: "dot", text: "connected" };
}
