import { componentBase, type EntityNaming } from "./common.ts";
import type { EntityContext, TextComponent } from "./types.ts";

/**
 * The MFA code entry: a password-mode text entity whose value HA wraps into the JSON request
 * `{"account":"<id>","code":"<value>"}` on `<base>/bridge/request/mfa` (never retained).
 */
export function mfaCodeText(
  ctx: EntityContext,
  naming: EntityNaming,
  commandTopic: string,
  account: string,
): TextComponent {
  const template = `{"account":${JSON.stringify(account)},"code":"{{ value }}"}`;
  return {
    ...componentBase("text", ctx, naming),
    command_topic: commandTopic,
    command_template: template,
    retain: false,
    mode: "password",
    pattern: "^\\d{6}$",
    min: 6,
    max: 6,
  };
}
