import { stringify } from "yaml";
import { credentialProblems } from "../engine/credentials.ts";
import { isEngineError } from "../errors.ts";
import { redactConfig } from "./json-schema.ts";
import { type ConfigIssue, type LoadConfigOptions, loadConfigDetailed } from "./load.ts";
import type { Config } from "./schema.ts";
import type { ConfigWarning } from "./warnings.ts";

/** `icloud2mqtt config check`: load without throwing, then print problems, warnings and a redacted dump. */

export interface ConfigCheckResult {
  ok: boolean;
  file: string | null;
  errors: ConfigIssue[];
  warnings: ConfigWarning[];
  /** The validated configuration (secrets included: redact before printing), or null when invalid. */
  config: Config | null;
}

/**
 * Loads like loadConfig but returns the problems instead of throwing CONFIG_INVALID; an account
 * without a password and without a stored session is a problem too (it could never sign in).
 */
export async function checkConfig(options: LoadConfigOptions = {}): Promise<ConfigCheckResult> {
  try {
    const { config, warnings, file } = await loadConfigDetailed(options);
    const errors = (await credentialProblems(config.accounts, config.state_dir)).map((p) => ({
      path: `accounts.${p.index}.password`,
      message: p.message,
    }));
    if (errors.length > 0) return { ok: false, file, errors, warnings, config: null };
    return { ok: true, file, errors: [], warnings, config };
  } catch (error) {
    if (!isEngineError(error, "CONFIG_INVALID")) throw error;
    const issues = Array.isArray(error.info["issues"]) ? (error.info["issues"] as ConfigIssue[]) : [];
    const file = typeof error.info["file"] === "string" ? error.info["file"] : null;
    return { ok: false, file, errors: issues, warnings: [], config: null };
  }
}

export interface FormatConfigCheckOptions {
  /** Append the effective configuration as YAML, secrets redacted. Default true. */
  dump?: boolean;
}

/** Human-readable report; exit code 1 is appropriate when `result.ok` is false. */
export function formatConfigCheck(result: ConfigCheckResult, options: FormatConfigCheckOptions = {}): string {
  const source = result.file ?? "defaults and environment (no file)";
  const lines: string[] = [];
  if (result.ok) lines.push(`Configuration OK: ${source}`);
  else lines.push(`Configuration INVALID: ${source}`, ...result.errors.map((e) => `  error   ${e.path}: ${e.message}`));
  lines.push(...result.warnings.map((w) => `  warning ${w.path}: ${w.message}`));
  if (result.ok && result.config !== null && options.dump !== false) {
    lines.push("", "# Effective configuration (secrets redacted)", stringify(redactConfig(result.config)).trimEnd());
  }
  return `${lines.join("\n")}\n`;
}

/** The effective configuration as YAML with secrets redacted, for logs and `bridge/info`. */
export function dumpConfig(config: Config): string {
  return stringify(redactConfig(config));
}
