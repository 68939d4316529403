import { z } from "zod";

/**
 * What the API stores (`<state_dir>/ricloud/api.json`): the resources in the shape the API answers
 * with, plus a few fields that never leave the process (names starting with `_`). Parsed with these
 * schemas on load; `render` in resources.ts drops the private fields.
 */

const date = z.string();
const nullableDate = z.string().nullable();
const id = z.string().min(1).max(100);

export const UserSchema = z.object({
  id,
  resource: z.literal("user"),
  organisation: z.string(),
  key: z.string(),
  identifier: z.string(),
  state: z.enum(["active", "deactivated", "blocked"]),
  date_created: date,
});
export type User = z.infer<typeof UserSchema>;

export const SourceSchema = z.object({
  id,
  resource: z.literal("source"),
  organisation: z.string(),
  user: z.string(),
  type: z.literal("icloud.account"),
  identifier: z.string(),
  parent: z.null(),
  children: z.array(z.string()),
  state: z.enum(["unvalidated", "active", "deactivated", "blocked", "locked"]),
  date_created: date,
  /** The engine account this Apple ID is (configuration `accounts[].id`). */
  _account: z.string(),
});
export type Source = z.infer<typeof SourceSchema>;

export const SessionSchema = z.object({
  id,
  resource: z.literal("session"),
  organisation: z.string(),
  key: z.string(),
  user: z.string(),
  source: z.string(),
  state: z.enum(["pending", "active", "failed", "expired"]),
  error: z.string().nullable(),
  error_info: z.record(z.string(), z.unknown()).nullable(),
  date_created: date,
  date_expired: nullableDate,
});
export type Session = z.infer<typeof SessionSchema>;

export const PollPayloadSchema = z.object({
  info_types: z.array(z.string()).optional(),
  data_types: z.array(z.string()).optional(),
  files: z.array(z.string()).optional(),
  filters: z.record(z.string(), z.unknown()).optional(),
});
export type PollPayload = z.infer<typeof PollPayloadSchema>;

export const PollSchema = z.object({
  id,
  resource: z.literal("poll"),
  organisation: z.string(),
  key: z.string(),
  user: z.string(),
  source: z.string(),
  session: z.string(),
  subscription: z.string().nullable(),
  requestor: z.enum(["key", "subscription"]),
  type: z.enum(["data", "info", "files", "mixed"]),
  payload: PollPayloadSchema,
  tasks_pending: z.array(z.string()),
  tasks_processing: z.array(z.string()),
  tasks_succeeded: z.array(z.string()),
  tasks_failed: z.array(z.string()),
  tasks_suspended: z.array(z.string()),
  /** Result ids; rendered as the results themselves. */
  results: z.array(z.string()),
  errors: z.array(z.object({ task: z.string(), error: z.string(), message: z.string() })),
  state: z.enum(["pending", "processing", "completed"]),
  date_created: date,
  date_started: nullableDate,
  date_completed: nullableDate,
});
export type Poll = z.infer<typeof PollSchema>;

export const TaskSchema = z.object({
  id,
  resource: z.literal("task"),
  organisation: z.string(),
  key: z.string(),
  user: z.string().nullable(),
  source: z.string().nullable(),
  session: z.string().nullable(),
  poll: z.string().nullable(),
  /** `data`, `info`, `files`, or `test` for a config test. */
  type: z.string(),
  /** The data type, `info.account`, the file id, or the config tested (`webhook_config:1`). */
  target: z.string(),
  source_type: z.string().nullable(),
  state: z.enum(["pending", "processing", "suspended", "succeeded", "failed"]),
  results: z.array(z.string()),
  error: z.string().nullable(),
  message: z.string().nullable(),
  date_created: date,
  date_started: nullableDate,
  date_completed: nullableDate,
});
export type Task = z.infer<typeof TaskSchema>;

export const ResultSchema = z.object({
  id,
  resource: z.literal("result"),
  organisation: z.string(),
  key: z.string(),
  poll: z.string(),
  task: z.string(),
  identifier: z.string(),
  /** `json` for data and info results, `file` for files (ricloud-py reads it to decode JSON). */
  type: z.enum(["json", "file"]),
  url: z.string(),
  checksum: z.string(),
  size: z.number().int().nonnegative(),
  state: z.enum(["available", "consumed", "expired"]),
  date_created: date,
  date_consumed: nullableDate,
  date_deleted: nullableDate,
  _storage_config: z.string(),
  /** Where the file is, relative to its storage. */
  _object: z.string(),
});
export type Result = z.infer<typeof ResultSchema>;

export const EventSchema = z.object({
  id,
  resource: z.literal("event"),
  organisation: z.string(),
  key: z.string().nullable(),
  type: z.string(),
  action: z.string(),
  data: z.unknown(),
  webhook_config: z.string().nullable(),
  state: z.enum(["pending", "delivered", "failed"]),
  retries: z.number().int().nonnegative(),
  date_created: date,
  date_delivered: nullableDate,
  /** When the next delivery attempt is due (ms since epoch), null when none is. */
  _next_attempt: z.number().nullable(),
});
export type RicloudEvent = z.infer<typeof EventSchema>;

export const SubscriptionSchema = z.object({
  id,
  resource: z.literal("subscription"),
  organisation: z.string(),
  key: z.string(),
  user: z.string(),
  source: z.string(),
  session: z.string(),
  poll_payload: PollPayloadSchema,
  schedule: z.union([z.string(), z.number()]),
  state: z.enum(["active", "ended"]),
  date_created: date,
  date_ended: nullableDate,
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

export const StorageConfigSchema = z.object({
  id,
  resource: z.literal("storage_config"),
  organisation: z.string(),
  type: z.enum(["local", "s3"]),
  url: z.string(),
  state: z.enum(["new", "valid", "invalid", "deactivated"]),
  date_created: date,
  /** S3 credentials `{access_key_id, secret_access_key, region?, endpoint?}`; never answered. */
  _credentials: z.record(z.string(), z.string()).nullable(),
});
export type StorageConfig = z.infer<typeof StorageConfigSchema>;

export const WebhookConfigSchema = z.object({
  id,
  resource: z.literal("webhook_config"),
  organisation: z.string(),
  url: z.string(),
  state: z.enum(["new", "valid", "invalid", "deactivated"]),
  date_created: date,
  /** Signs deliveries; answered only when the config is created. */
  _secret: z.string(),
});
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

/** Per-key settings the API can change (the keys themselves live in keys.json). */
export const KeySettingsSchema = z.object({
  storage_config: z.string().nullable(),
  webhook_config: z.string().nullable(),
});
export type KeySettings = z.infer<typeof KeySettingsSchema>;

/** A file a data result referenced, so a later `files` poll can fetch it. */
export const FileRefSchema = z.object({
  data_type: z.string(),
  account: z.string(),
  ref: z.unknown(),
  date: date,
});
export type FileRef = z.infer<typeof FileRefSchema>;

export const OrganisationSchema = z.object({
  name: z.string(),
  storage_config_default: z.string().nullable(),
  webhook_config_default: z.string().nullable(),
  date_created: date,
});

export const ApiStateSchema = z.object({
  version: z.literal(1),
  counters: z.record(z.string(), z.number().int().nonnegative()).default({}),
  organisation: OrganisationSchema,
  keys: z.record(z.string(), KeySettingsSchema).default({}),
  users: z.array(UserSchema).default([]),
  sources: z.array(SourceSchema).default([]),
  sessions: z.array(SessionSchema).default([]),
  polls: z.array(PollSchema).default([]),
  tasks: z.array(TaskSchema).default([]),
  results: z.array(ResultSchema).default([]),
  events: z.array(EventSchema).default([]),
  subscriptions: z.array(SubscriptionSchema).default([]),
  storage_configs: z.array(StorageConfigSchema).default([]),
  webhook_configs: z.array(WebhookConfigSchema).default([]),
  files: z.record(z.string(), FileRefSchema).default({}),
});
export type ApiState = z.infer<typeof ApiStateSchema>;
