/** The configuration module's public surface: schema and types, loading, JSON Schema, redaction, `config check`. */
export {
  type ConfigCheckResult,
  checkConfig,
  dumpConfig,
  type FormatConfigCheckOptions,
  formatConfigCheck,
} from "./check.ts";
export { ENV_PREFIX } from "./env.ts";
export { configJsonSchema, type JsonSchema, REDACTED, redactConfig, schemaLeafPaths } from "./json-schema.ts";
export {
  type ConfigIssue,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  loadConfigDetailed,
  type ResolveConfigOptions,
  resolveConfig,
} from "./load.ts";
export { formatDuration, isCronExpression, shortestGapMs, tryParseDuration } from "./schedule.ts";
export * from "./schema.ts";
export { type ConfigWarning, configWarnings } from "./warnings.ts";
