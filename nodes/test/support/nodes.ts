/** The package's node files' register functions, as Node-RED calls them (`(RED) => …`), and the engine pool. */
import { register as registerAccountNode } from "../../src/nodes/icloud-account.ts";
import { register as registerActionNode } from "../../src/nodes/icloud-action.ts";
import { register as registerDeviceNode } from "../../src/nodes/icloud-device.ts";
import { register as registerEventsNode } from "../../src/nodes/icloud-events.ts";
import { register as registerMfaNode } from "../../src/nodes/icloud-mfa.ts";

export { enginePool } from "../../src/engine-pool.ts";

/** Every node type of the package, for `RedRuntime.load`. */
export const NODES = [registerAccountNode, registerDeviceNode, registerEventsNode, registerActionNode, registerMfaNode];
