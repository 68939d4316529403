import { codeRequest } from "../event-messages.ts";
import { mfaRequest } from "../mfa-input.ts";
import { toNodeError } from "../node-errors.ts";
import type { NodeRedApi, RedNode } from "../red.ts";
import { useAccount } from "./consumer.ts";

/**
 * `icloud-mfa`: the two-factor code from a flow. It sends a message when the account needs a code
 * (`msg.topic = "mfa.required"`, `msg.payload` says where the code went and where else it can go), so
 * a Telegram or dashboard flow can ask the user; a code in `msg.payload` is submitted, `{method,
 * phone_number_id}` asks for a new one, `{choice}` answers a legacy two-step choice. The answer
 * leaves with `msg.topic = "mfa.result"` and `msg.payload` the session outcome.
 */
export function register(RED: NodeRedApi): void {
  function IcloudMfaNode(this: RedNode, definition: Record<string, unknown>): void {
    RED.nodes.createNode(this, definition);
    const handle = useAccount(RED, this, definition["account"]);
    if (handle !== null) {
      handle.bus.on(this, "mfa.required", ({ account, state }) =>
        this.send({ topic: "mfa.required", account, payload: codeRequest(state) }),
      );
    }
    this.on("input", (msg, send, done) => {
      if (handle === null) {
        done(new Error("no iCloud account chosen"));
        return;
      }
      let request: ReturnType<typeof mfaRequest>;
      try {
        request = mfaRequest(msg.payload);
      } catch (error) {
        done(toNodeError(error));
        return;
      }
      const run =
        request.command === "mfa"
          ? handle.execute("mfa", request.input)
          : request.command === "resend_mfa"
            ? handle.execute("resend_mfa", request.input)
            : handle.execute("choice", request.input);
      run.then(
        (outcome) => {
          msg.topic = "mfa.result";
          msg["account"] = handle.account;
          msg.payload = outcome;
          send(msg);
          done();
        },
        (error: unknown) => done(toNodeError(error)),
      );
    });
  }
  RED.nodes.registerType("icloud-mfa", IcloudMfaNode);
}
