import type { AccountHandle, AccountView } from "../account-handle.ts";
import type { NodeStatus } from "../account-status.ts";
import type { NodeRedApi, RedNode } from "../red.ts";
import { handleOf } from "./icloud-account.ts";

/**
 * What every node but the account node shares: finding its account's handle, showing the account's
 * status (or its own, when the account is ready), and letting go of both when it closes.
 */
export function useAccount(
  RED: NodeRedApi,
  node: RedNode,
  accountNodeId: unknown,
  statusFor: (view: AccountView) => NodeStatus = (view) => view.status,
): AccountHandle | null {
  const handle = typeof accountNodeId === "string" ? handleOf(RED.nodes.getNode(accountNodeId)) : null;
  if (handle === null) {
    node.status({ fill: "red", shape: "ring", text: "no iCloud account chosen" });
    return null;
  }
  node.status(statusFor(handle.view()));
  handle.changes.on(node, "change", (view) => node.status(statusFor(view)));
  node.on("close", (_removed, done) => {
    handle.changes.removeListeners(node);
    handle.bus.removeListeners(node);
    done();
  });
  return handle;
}

/** Whether the account can take commands: its engine runs and the status is not a problem one. */
export function isReady(view: AccountView): boolean {
  return view.state !== null && view.online && view.status.fill === "green";
}
