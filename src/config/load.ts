import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import { EngineError } from "../errors.ts";
import { applyEnvOverrides, type ConfigPath, ENV_PREFIX, type EnvProblem, envOverrides } from "./env.ts";
import { type Config, ConfigSchema } from "./schema.ts";
import { type ConfigWarning, configWarnings } from "./warnings.ts";
import { MAX_CONFIG_BYTES, yamlShapeProblem } from "./yaml-limits.ts";

/**
 * Loading: YAML file → environment overrides → zod validation → paths (`~`, relative to the config
 * file) → secrets read from `*_file` keys → warnings. Every problem is collected and thrown as one
 * EngineError `CONFIG_INVALID` whose message lists `path: message` lines.
 */

export interface LoadConfigOptions {
  /** Config file. Missing file named here (or in ICLOUD2MQTT_CONFIG) is an error; none = defaults + env. */
  file?: string | undefined;
  /** Environment for `ICLOUD2MQTT_*` overrides; default `process.env`. Pass `{}` to ignore the environment. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Base for relative paths when there is no file, and for paths set through the environment. */
  cwd?: string | undefined;
  /** Called for each warning (loadConfig only). */
  onWarning?: ((warning: ConfigWarning) => void) | undefined;
}

export interface ConfigIssue {
  path: string;
  message: string;
}

export interface LoadedConfig {
  config: Config;
  warnings: ConfigWarning[];
  /** Absolute path of the file read, or null. */
  file: string | null;
}

export type { ConfigWarning } from "./warnings.ts";

/** Loads and validates the configuration. Warnings go to `options.onWarning`. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const { config, warnings } = await loadConfigDetailed(options);
  for (const warning of warnings) options.onWarning?.(warning);
  return config;
}

/** Like loadConfig, returning the warnings and the file read. */
export async function loadConfigDetailed(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? env[`${ENV_PREFIX}CONFIG`];
  const file = named ? resolve(cwd, expandHome(named, env)) : null;
  const raw = file === null ? {} : await readConfigFile(file);
  return resolveConfig(raw, { env, cwd, baseDir: file === null ? cwd : dirname(file), file });
}

export interface ResolveConfigOptions {
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  /** Base for relative paths in `raw`; default cwd. */
  baseDir?: string | undefined;
  /** Shown in error messages. */
  file?: string | null | undefined;
}

/** Validates a configuration object built in code (demo, Node-RED, Homebridge): env, paths, secrets, warnings. */
export async function resolveConfig(raw: unknown, options: ResolveConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? null;
  const document: Record<string, unknown> = isRecord(raw) ? structuredClone(raw) : {};
  if (!isRecord(raw) && raw !== null && raw !== undefined) {
    throw invalid(file, [{ path: "(root)", message: "the configuration must be a mapping of keys to values" }]);
  }
  const { overrides, unknown } = envOverrides(env);
  const envProblems = applyEnvOverrides(document, overrides);
  const fromEnv = new Map(overrides.map((o) => [o.path.join("."), o.variable]));
  const result = ConfigSchema.safeParse(document);
  if (!result.success || envProblems.length > 0) {
    const issues = [...envProblems.map(envIssue), ...(result.error ? zodIssues(result.error, fromEnv) : [])];
    throw invalid(file, issues);
  }
  const config = result.data;
  const home = env["HOME"] || homedir();
  const base = (path: ConfigPath) => (fromEnv.has(path.join(".")) ? cwd : (options.baseDir ?? cwd));
  const fix = (path: ConfigPath, value: string) => resolve(base(path), expandHome(value, { HOME: home }));
  const fixNullable = (path: ConfigPath, value: string | null) => (value === null ? null : fix(path, value));

  config.state_dir = fix(["state_dir"], config.state_dir);
  config.accounts.forEach((account, i) => {
    account.password_file = fixNullable(["accounts", i, "password_file"], account.password_file);
    // Paths inside service sections (a download folder, a local database) are relative to the config file too.
    for (const service of GENERIC_SERVICES) {
      for (const keys of service.pathKeys ?? []) {
        const parent = keys
          .slice(0, -1)
          .reduce<unknown>(
            (node, key) => (isRecord(node) ? node[key] : undefined),
            (account as unknown as Record<string, unknown>)[service.key],
          );
        const last = keys.at(-1);
        if (!isRecord(parent) || last === undefined || typeof parent[last] !== "string") continue;
        parent[last] = fix(["accounts", i, service.key, ...keys], parent[last]);
      }
    }
  });
  for (const key of ["password_file", "ca", "cert", "key"] as const) {
    config.mqtt[key] = fixNullable(["mqtt", key], config.mqtt[key]);
  }
  config.http.auth_token_file = fixNullable(["http", "auth_token_file"], config.http.auth_token_file);
  for (const key of ["tls_cert", "tls_key"] as const) {
    config.ricloud_api[key] = fixNullable(["ricloud_api", key], config.ricloud_api[key]);
  }

  const secretProblems: ConfigIssue[] = [];
  const readSecret = async (path: string, secretFile: string | null, assign: (secret: string) => void) => {
    if (secretFile === null) return;
    try {
      const secret = (await readFile(secretFile, "utf8")).replace(/\r?\n$/, "");
      if (secret === "") secretProblems.push({ path, message: `${secretFile} is empty` });
      else assign(secret);
    } catch (error) {
      secretProblems.push({ path, message: `cannot read ${secretFile} (${errorCode(error)})` });
    }
  };
  await Promise.all([
    ...config.accounts.map((account, i) =>
      readSecret(`accounts.${i}.password_file`, account.password_file, (s) => {
        account.password = s;
      }),
    ),
    readSecret("mqtt.password_file", config.mqtt.password_file, (s) => {
      config.mqtt.password = s;
    }),
    readSecret("http.auth_token_file", config.http.auth_token_file, (s) => {
      config.http.auth_token = s;
    }),
  ]);
  if (secretProblems.length > 0) throw invalid(file, secretProblems);

  const warnings = [...unknown.map(({ path, message }) => ({ path, message })), ...configWarnings(config)];
  return { config, warnings, file };
}

/** One CONFIG_INVALID error listing every issue; `info.issues` holds them for front-ends. */
export function invalid(file: string | null, issues: ConfigIssue[]): EngineError {
  const where = file === null ? "" : ` (${file})`;
  const lines = issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n");
  return new EngineError("CONFIG_INVALID", `Invalid configuration${where}:\n${lines}`, { info: { file, issues } });
}

/** Reads and parses the file; too large or too deeply nested files are refused before parsing. */
async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_CONFIG_BYTES) {
      throw invalid(file, [
        { path: "(file)", message: `is ${size} bytes; a configuration file may have at most ${MAX_CONFIG_BYTES}` },
      ]);
    }
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw invalid(file, [{ path: "(file)", message: `cannot read ${file} (${errorCode(error)})` }]);
  }
  const shape = yamlShapeProblem(text);
  if (shape !== undefined) throw invalid(file, [{ path: "(yaml)", message: `not parsed: ${shape}` }]);
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw invalid(file, [{ path: "(yaml)", message: message ?? "unreadable YAML" }]);
  }
}

function zodIssues(error: z.ZodError, fromEnv: Map<string, string>): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".") || "(root)";
    let message = issue.message;
    if (issue.code === "invalid_type" && /received undefined$/.test(message)) message = "is required";
    const variable = fromEnv.get(path);
    return { path, message: variable ? `${message} (from ${variable})` : message };
  });
}

function envIssue(problem: EnvProblem): ConfigIssue {
  return { path: problem.path, message: problem.message };
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== "~" && !path.startsWith("~/")) return path;
  return join(env["HOME"] || homedir(), path.slice(1));
}

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string")
    return error.code;
  return error instanceof Error ? error.message : String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
