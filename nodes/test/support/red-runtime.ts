/**
 * A real Node-RED runtime in the test process, through node-red-node-test-helper: the flows engine,
 * the credential store, catch/status nodes and the admin app are Node-RED's own; only its logging
 * and the nodes' status/send methods are wrapped as spies. One runtime per test file (the helper is a
 * singleton): Node-RED 5.0.x (`node-red`) or 4.1.x (`node-red-4`, an npm alias).
 */
import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

export type RuntimePackage = "node-red" | "node-red-4";

/** A node of a flow as the editor saves it. */
export type FlowNode = { id: string; type: string; z?: string; wires?: string[][] } & Record<string, unknown>;

/** `node.status` is the helper's sinon spy on Node.prototype: every call of every node. */
interface StatusSpy {
  getCalls(): Array<{ thisValue: { id?: string }; args: unknown[] }>;
}

export interface NodeStatusCall {
  fill?: string;
  shape?: string;
  text?: string;
}

export interface HelperNode {
  id: string;
  status: unknown;
  on(event: "input", listener: (msg: Record<string, unknown>) => void): void;
  receive(msg: Record<string, unknown>): void;
}

interface AdminAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface PendingRequest extends PromiseLike<AdminAnswer> {
  send(body: unknown): PendingRequest;
}

/** The parts of node-red-node-test-helper the tests use (it ships no declarations). */
interface TestHelper {
  init(runtimePath: string): void;
  settings(settings: Record<string, unknown>): Record<string, unknown>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: unknown[], flow: FlowNode[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  setFlows(flow: FlowNode[], type: string, credentials?: Record<string, unknown>): Promise<void>;
  getNode(id: string): HelperNode | null;
  request(): { get(path: string): PendingRequest; post(path: string): PendingRequest };
}

export interface RedRuntime {
  readonly version: string;
  /** The runtime's event bus (`flows:started`, `comms`, …). */
  readonly events: EventEmitter;
  /** Node-RED's own `mqtt-broker` node module, to load with `load()`. */
  readonly mqttNodes: unknown;
  settings(settings: Record<string, unknown>): void;
  load(nodes: unknown[], flow: FlowNode[], credentials?: Record<string, unknown>): Promise<void>;
  /** A deploy of `type` (`full`, `nodes`, `flows`), resolved once the flows started again. */
  deploy(flow: FlowNode[], type: "full" | "nodes" | "flows", credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  node(id: string): HelperNode;
  /** Every status the node with this id set since the runtime loaded (also in constructors). */
  statuses(id: string): NodeStatusCall[];
  get(path: string): Promise<AdminAnswer>;
  post(path: string, body: unknown): Promise<AdminAnswer>;
  stop(): Promise<void>;
}

export async function startRuntime(runtime: RuntimePackage): Promise<RedRuntime> {
  const helper = require("node-red-node-test-helper") as TestHelper;
  const main = require.resolve(runtime);
  helper.init(main);
  const RED = require(main) as { version(): string; runtime: { events: EventEmitter } };
  const events = RED.runtime.events;
  const nodesDir = dirname(createRequire(main).resolve("@node-red/nodes/package.json"));
  const mqttNodes: unknown = require(join(nodesDir, "core", "network", "10-mqtt.js"));
  await helper.startServer();
  return {
    version: RED.version(),
    events,
    mqttNodes,
    settings: (settings) => void helper.settings(settings),
    load: (nodes, flow, credentials) => helper.load(nodes, flow, credentials ?? {}),
    deploy: async (flow, type, credentials) => {
      const started = new Promise<void>((resolve) => events.once("flows:started", () => resolve()));
      // The helper's own wait for "flows:started" gives up after 300 ms; ours waits as long as it takes.
      await helper.setFlows(flow, type, credentials ?? {}).catch((error: unknown) => {
        if (!(error instanceof Error && error.message === "timeout waiting event")) throw error;
      });
      await started;
    },
    unload: () => helper.unload(),
    node: (id) => {
      const node = helper.getNode(id);
      if (node === null) throw new Error(`no node ${id} in the running flows`);
      return node;
    },
    statuses: (id) => {
      const spy = helper.getNode(id)?.status as StatusSpy | undefined;
      if (spy === undefined) return [];
      return spy
        .getCalls()
        .filter((call) => call.thisValue.id === id)
        .map((call) => call.args[0] as NodeStatusCall);
    },
    get: async (path) => await helper.request().get(path),
    post: async (path, body) => await helper.request().post(path).send(body),
    stop: () => helper.stopServer(),
  };
}
