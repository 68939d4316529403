import { AccountHandle } from "../account-handle.ts";
import { AccountNodeSchema, type AccountPlan, CredentialsSchema, planAccount } from "../account-settings.ts";
import { commsTopic, installAdminApi, registerHandle, unregisterHandle } from "../admin-api.ts";
import type { NodeRedApi, RedNode } from "../red.ts";
import { redLogger } from "../red-logger.ts";
import { runtimeSettings } from "../runtime-settings.ts";

/** How long a close may take before Node-RED is told it is done (Node-RED itself gives up after 15 s). */
const CLOSE_LIMIT_MS = 10_000;

/** The runtime account node: a config node holding its `AccountHandle`. */
export interface AccountNode extends RedNode {
  icloud?: AccountHandle;
}

/** The handle of an `icloud-account` node `RED.nodes.getNode(id)` returned, if it is one. */
export function handleOf(node: unknown): AccountHandle | null {
  if (typeof node !== "object" || node === null) return null;
  const handle = (node as AccountNode).icloud;
  return handle instanceof AccountHandle ? handle : null;
}

function plan(RED: NodeRedApi, node: RedNode, definition: Record<string, unknown>): AccountPlan | Error {
  const parsed = AccountNodeSchema.safeParse(definition);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return new Error(`invalid settings: ${problem}`);
  }
  const settings = runtimeSettings(RED.settings, (message) => node.warn(message));
  try {
    return planAccount(parsed.data, CredentialsSchema.parse(node.credentials), {
      userDir: settings.userDir,
      endpoint: settings.endpoint,
    });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * `icloud-account`: the config node every other node of the package points at. It runs the engine
 * for its Apple ID (embedded) or connects to a running icloud2mqtt (bridge), serves the edit dialog's
 * admin API, and pushes the account's state to open editors.
 */
export function register(RED: NodeRedApi): void {
  installAdminApi(RED);
  function IcloudAccountNode(this: AccountNode, definition: Record<string, unknown>): void {
    RED.nodes.createNode(this, definition);
    const settings = runtimeSettings(RED.settings, () => {});
    const handle = new AccountHandle({
      nodeId: this.id,
      logger: redLogger(RED.log, `icloud-account:${this.id}`),
      getNode: (id) => RED.nodes.getNode(id),
      bridgeRetryMs: settings.bridgeRetryMs,
      bridgeStartTimeoutMs: settings.bridgeStartTimeoutMs,
    });
    this.icloud = handle;
    registerHandle(handle);
    handle.changes.on(this, "change", (view) => RED.comms.publish(commsTopic(this.id), view, true));
    handle.bus.on(this, "mfa.required", () =>
      this.warn(
        "iCloud needs a verification code: enter it in this account's settings, or send it to an icloud-mfa node",
      ),
    );
    handle.start(plan(RED, this, definition));

    this.on("close", (removed, done) => {
      unregisterHandle(handle);
      handle.changes.removeListeners(this);
      handle.bus.removeListeners(this);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(limit);
        done();
      };
      const limit = setTimeout(() => {
        this.warn(`the iCloud engine did not stop within ${CLOSE_LIMIT_MS / 1000} s; it finishes in the background`);
        finish();
      }, CLOSE_LIMIT_MS);
      handle
        .close(removed, settings.graceMs)
        .catch((error: unknown) => this.error(`closing the iCloud account failed: ${String(error)}`))
        .finally(finish);
    });
  }
  RED.nodes.registerType("icloud-account", IcloudAccountNode, {
    credentials: { username: { type: "text" }, password: { type: "password" } },
  });
}
