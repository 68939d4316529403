/**
 * `icloud2mqtt/engine`: the engine as a library. Everything a front-end (the CLI, Node-RED,
 * Homebridge, your own code) needs to embed the engine or talk to one: the Engine, its API type,
 * command schemas, events, the ricloud data types, coded errors and the Logger seam. Importing this
 * loads no MQTT broker, HTTP server, simulator or pino.
 */

export { EngineError, ERROR_CODES, type ErrorCode, isEngineError, toEngineError } from "../errors.ts";
export type { MmeCalendarEvent } from "../icloud/calendar/types.ts";
export type { CallkitCall } from "../icloud/calls/types.ts";
export type { MmeContact } from "../icloud/contacts/types.ts";
export type { FmipDevice } from "../icloud/findmy/types.ts";
export type { MmeNote } from "../icloud/notes/types.ts";
export type { IcplAsset } from "../icloud/photos/types.ts";
export { type Logger, type LogLevel, silentLogger } from "../logger.ts";
export { type AccountConfig, type AccountConfigInput, AccountSchema } from "./account-config.ts";
export {
  type AccountState,
  AccountStateSchema,
  type ServiceStatus,
  type SessionView,
  SessionViewSchema,
} from "./account-state.ts";
export type { AccountSnapshot, AccountSummary, EngineApi } from "./api.ts";
export {
  COMMAND_NAMES,
  COMMAND_SCHEMAS,
  type CommandInput,
  type CommandName,
  type CommandResult,
  type CommandResults,
  DATA_TYPES,
  type DataType,
  isCommandName,
  type SessionOutcome,
} from "./commands.ts";
export { Engine, type EngineOptions } from "./engine.ts";
export { type AnyEvent, EventBus } from "./event-bus.ts";
export type { CoreEvents, EngineEvents, LogEntry } from "./events.ts";
export { SERVICES } from "./services/registry.ts";
export type { ServiceKey, ServiceSnapshots } from "./services/types.ts";
