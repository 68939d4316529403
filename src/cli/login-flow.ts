import { isEngineError } from "../errors.ts";
import type { ICloudSession } from "../icloud/session.ts";
import type { SessionSnapshot } from "../icloud/session-types.ts";

/** Terminal I/O of the interactive login (scriptable in tests). */
export interface LoginIo {
  ask(question: string): Promise<string>;
  print(line: string): void;
}

const MAX_STEPS = 20;

/**
 * Drives a session from `signIn` to active, asking the user for codes and choices.
 * Returns the process exit code (0 when signed in).
 */
export async function runInteractiveLogin(
  session: ICloudSession,
  io: LoginIo,
  options: { force?: boolean } = {},
): Promise<number> {
  let snap = await session.signIn({ force: options.force ?? true });
  for (let step = 0; step < MAX_STEPS; step++) {
    if (snap.state === "active") {
      io.print(`Signed in as ${snap.username}.`);
      if (snap.trust_expires_at !== null) io.print(`This computer stays trusted until ${snap.trust_expires_at}.`);
      io.print("The session is stored; the bridge can now run without a code.");
      return 0;
    }
    switch (snap.error) {
      case "code-required":
      case "code-invalid":
        snap = await askCode(session, io, snap);
        break;
      case "session-expired":
        io.print("The sign-in timed out at Apple; starting again.");
        snap = await session.signIn({ force: options.force ?? true });
        break;
      case "choice-required":
        snap = await askChoice(session, io, snap);
        break;
      default:
        io.print(failureText(snap));
        return 1;
    }
  }
  io.print("Giving up after too many attempts.");
  return 1;
}

async function askCode(session: ICloudSession, io: LoginIo, snap: SessionSnapshot): Promise<SessionSnapshot> {
  const info = snap.error_info ?? {};
  if (snap.error === "code-invalid") io.print("That code was not accepted. Try again.");
  else if (info.method === "sms") io.print("A code was sent by SMS.");
  else if (info.method === "voice") io.print("You will receive a voice call with a code.");
  else if (info.method === "2sv") io.print("A code was sent to the chosen device.");
  else io.print("A code is shown on your trusted Apple devices.");
  const resend = info.method !== "2sv";
  const phones = info.trusted_phone_numbers ?? [];
  const hint = resend
    ? phones.length > 0
      ? " (or 'device', 'sms', 'voice' to resend)"
      : " (or 'device' to resend)"
    : "";
  const answer = (await io.ask(`Verification code${hint}: `)).trim().toLowerCase();
  if (answer === "") return snap;
  if (resend && (answer === "sms" || answer === "voice")) {
    if (phones.length === 0) {
      io.print("No trusted phone number is known for this account.");
      return snap;
    }
    let phoneNumberId = phones[0]?.id;
    if (phones.length > 1) {
      for (const [i, p] of phones.entries()) io.print(`  ${i + 1}) ${p.number}`);
      const pick = Number((await io.ask("Send to which number? ")).trim());
      phoneNumberId = phones[pick - 1]?.id;
      if (phoneNumberId === undefined) {
        io.print("Not a valid choice.");
        return snap;
      }
    }
    return session.requestCode({ method: answer, ...(phoneNumberId === undefined ? {} : { phoneNumberId }) });
  }
  if (resend && answer === "device") return session.requestCode({ method: "device" });
  try {
    return await session.submitCode(answer);
  } catch (error) {
    if (isEngineError(error, "INVALID_INPUT")) {
      io.print("Enter the code as digits, e.g. 012345.");
      return snap;
    }
    throw error;
  }
}

async function askChoice(session: ICloudSession, io: LoginIo, snap: SessionSnapshot): Promise<SessionSnapshot> {
  const choices = snap.error_info?.choices ?? [];
  if (choices.length === 0) {
    io.print(failureText(snap));
    throw new Error("no choices offered");
  }
  io.print("Where should the verification code be sent?");
  for (const [i, c] of choices.entries()) io.print(`  ${i + 1}) ${c}`);
  const pick = Number((await io.ask("Choice: ")).trim());
  const choice = choices[pick - 1];
  if (choice === undefined) {
    io.print("Not a valid choice.");
    return snap;
  }
  return session.submitChoice(choice);
}

/** What the user reads while another process signs in to the account (undefined when not waiting). */
export function waitingText(snap: SessionSnapshot): string | undefined {
  const holder = snap.waiting_for;
  if (holder === null) return undefined;
  const who =
    holder.pid === null
      ? "Another process"
      : `Another process (pid ${holder.pid}, ${holder.command}, since ${holder.since})`;
  return `${who} is signing in to this Apple Account; waiting for it instead of signing in a second time (if it asks for a verification code, enter the code there)...`;
}

export function failureText(snap: SessionSnapshot): string {
  const retry = snap.error_info?.retry_after;
  switch (snap.error) {
    case "invalid-credentials":
      return "Apple rejected the Apple ID or password. Check them and run login again.";
    case "account-locked":
      return "This Apple Account is locked for security reasons. Unlock it at https://iforgot.apple.com, then run login again.";
    case "web-access-disabled":
      return 'iCloud web access is off. On a trusted device turn on "Access iCloud Data on the Web", then run login again.';
    case "security-key-required":
      return "This account uses security keys for two-factor authentication; the bridge cannot sign in with them.";
    case "sign-in-busy": {
      const holder = snap.error_info?.holder;
      const who =
        holder === undefined || holder.pid === null
          ? "Another process"
          : `Another process (pid ${holder.pid}, ${holder.command})`;
      return `${who} is still signing in to this Apple Account. Finish or stop that sign-in, then run login again.`;
    }
    case "wrong-region":
      return "This account belongs to the other iCloud region; try again with or without --china.";
    case "rate-limited":
      return `Apple is rate limiting sign-ins${retry === undefined ? "" : ` (retry in ${retry} s)`}. Wait and try again later.`;
    case "service-unavailable":
      return `Apple's sign-in service is unavailable or throttling this network${retry === undefined ? "" : ` (retry in ${retry} s)`}. Try again later.`;
    default:
      return `Sign-in failed: ${snap.message ?? snap.error ?? "unknown error"}`;
  }
}
