import { componentBase, type EntityNaming } from "./common.ts";
import type { EntityContext, TextComponent } from "./types.ts";

/**
 * The MFA code entry: a password-mode text entity whose value HA wraps into the JSON request
 * `{"account":"<id>","code":"<value>"}` on `<base>/bridge/request/mfa` (never retained). Its state
 * comes from `stateTopic`, which the bridge keeps empty, so the code typed never becomes the entity's
 * state (and never lands in Home Assistant's history); length and pattern therefore allow empty. Six
 * digits for two-factor codes, four to eight for legacy two-step codes (the session checks the length).
 */
export function mfaCodeText(
  ctx: EntityContext,
  naming: EntityNaming,
  commandTopic: string,
  stateTopic: string,
  account: string,
): TextComponent {
  const template = `{"account":${JSON.stringify(account)},"code":"{{ value }}"}`;
  return {
    ...componentBase("text", ctx, naming),
    command_topic: commandTopic,
    command_template: template,
    state_topic: stateTopic,
    retain: false,
    mode: "password",
    pattern: "^(\\d{4,8})?$",
    min: 0,
    max: 8,
  };
}
