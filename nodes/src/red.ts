/**
 * The part of Node-RED's node API these nodes use (Node-RED ships no type declarations). Node-RED 4.1
 * and 5.0 offer the same shape; node definitions (what the editor saved) are parsed with zod by each
 * node, never trusted as typed.
 */
import type { NodeStatus } from "./account-status.ts";
import type { RedLog } from "./red-logger.ts";

/** A message travelling through a flow. */
export type NodeMessage = { _msgid?: string; payload?: unknown; topic?: string } & Record<string, unknown>;

/** One message, or per output a message, several messages or none. */
export type Outputs = NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null;
export type SendFunction = (msg: Outputs) => void;
export type DoneFunction = (error?: Error) => void;

/** A running node: what `RED.nodes.createNode(this, definition)` mixed into `this`. */
export interface RedNode {
  readonly id: string;
  readonly type: string;
  readonly z?: string;
  name?: string;
  /** The node's credentials (decrypted), when its type declares some. */
  credentials?: Record<string, unknown>;
  on(event: "input", handler: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): void;
  on(event: "close", handler: (removed: boolean, done: () => void) => void): void;
  status(status: NodeStatus | Record<string, never>): void;
  send(msg: Outputs): void;
  log(message: string): void;
  warn(message: string): void;
  error(message: string | Error, msg?: NodeMessage): void;
}

export interface HttpRequest {
  params: Record<string, string>;
  body: unknown;
}

export interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): void;
  set(field: string, value: string): HttpResponse;
}

export type HttpHandler = (req: HttpRequest, res: HttpResponse, next: () => void) => void;

/** Express-like admin app (`RED.httpAdmin`): the editor's HTTP API. */
export interface HttpApp {
  get(path: string, ...handlers: HttpHandler[]): void;
  post(path: string, ...handlers: HttpHandler[]): void;
}

/** A node constructor: called with `new`, `this` becomes the node. */
export type NodeConstructor = (this: RedNode, definition: Record<string, unknown>) => void;

export interface RegisterOptions {
  credentials?: Record<string, { type: "text" | "password" }>;
}

/** `RED` as node files receive it. */
export interface NodeRedApi {
  nodes: {
    createNode(node: RedNode, definition: Record<string, unknown>): void;
    registerType(type: string, ctor: NodeConstructor, options?: RegisterOptions): void;
    getNode(id: string): unknown;
  };
  settings: Record<string, unknown> & { userDir?: string };
  httpAdmin: HttpApp;
  auth: { needsPermission(permission: string): HttpHandler };
  comms: { publish(topic: string, data: unknown, retain?: boolean): void };
  util: { cloneMessage<T>(msg: T): T };
  log: RedLog;
  version(): string;
}
