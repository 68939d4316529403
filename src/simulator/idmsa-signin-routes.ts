import { randomBytes } from "node:crypto";
import { z } from "zod";
import { type CoreEnv, isStrict, parseBody } from "./core-env.ts";
import {
  idmsaHeaders,
  noAuthContext,
  requestAuthSession,
  requireWidgetKey,
  serviceErrors,
  strictAuthSession,
} from "./idmsa-common.ts";
import type { Route, SimRequest, SimResponse } from "./router.ts";
import type { SimAccount } from "./sim-accounts.ts";
import { createSrpRecord, SrpServerSession } from "./srp-server.ts";
import { newAuthAttributes, newRepairToken } from "./tokens.ts";
import type { AuthSession } from "./world.ts";

export const IDMSA = "/appleauth/auth";

/**
 * Every client sends `a`, `accountName` and `protocols: ["s2k", "s2k_fo"]` (pyicloud
 * `pyicloud/base.py`, icloudpd `src/pyicloud_ipd/base.py`, icloud-photos-sync
 * `app/src/lib/icloud/icloud.ts` `getSRPLogin`); a body without them cannot start SRP (400 is the
 * simulator's choice, as is 400 when `protocols` lacks the account's protocol: no client does that).
 */
const InitBody = z.object({
  a: z.string().min(1),
  accountName: z.string().min(1),
  protocols: z.array(z.string()).min(1),
});

const CompleteBody = z.object({
  accountName: z.string().min(1),
  c: z.string().min(1),
  m1: z.string().min(1),
  m2: z.string().min(1),
  rememberMe: z.boolean().optional(),
  // icloud-photos-sync `app/src/lib/icloud/icloud.ts` sends `[trustToken]` even before it has one
  // (JSON `[null]`); only string entries can name a trust token.
  trustTokens: z.array(z.unknown()).nullable().optional(),
});

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Sign-in routes of idmsa: the optional authorize page, SRP init/complete and the dead plaintext
 * signin. init/complete need iCloud.com's widget key; the authorize page is an HTML page a browser
 * opens (no widget headers) and the plaintext signin is dead either way.
 */
export function idmsaSigninRoutes(env: CoreEnv): Route[] {
  return [
    {
      id: "idmsa.authorize",
      method: "GET",
      path: `${IDMSA}/authorize/signin`,
      handle: () => {
        const session = env.world.auth.create();
        const headers = idmsaHeaders(env, session, { "X-Apple-Auth-Attributes": session.authAttributes });
        headers["Content-Type"] = "text/html;charset=UTF-8";
        return {
          status: 200,
          headers,
          body: "<!DOCTYPE html><html><head><title>Sign in</title></head><body></body></html>",
        };
      },
    },
    {
      // Apple stopped accepting the plaintext signin: icloudpd removed its fallback in 1.29.4 after
      // old versions got 503 "Service Temporarily Unavailable" (reference 1.7).
      id: "idmsa.signin.legacy",
      method: "POST",
      path: `${IDMSA}/signin`,
      handle: () => ({ status: 503, text: "Service Temporarily Unavailable" }),
    },
    requireWidgetKey({
      id: "idmsa.signin.init",
      method: "POST",
      path: `${IDMSA}/signin/init`,
      handle: (req) => signinInit(env, req),
    }),
    requireWidgetKey({
      id: "idmsa.signin.complete",
      method: "POST",
      path: `${IDMSA}/signin/complete`,
      handle: (req) => signinComplete(env, req),
    }),
  ];
}

/** Reuses the auth context the client echoes, or starts a new one (init never requires one). */
function sessionForInit(env: CoreEnv, req: SimRequest): AuthSession {
  const existing = requestAuthSession(env, req);
  if (existing) {
    existing.srpVerified = false;
    existing.codeVerified = false;
    existing.mfaDone = false;
    existing.repairPending = false;
    // Code limits count per sign-in: a new signin/init in the same auth context starts them afresh.
    existing.wrongCodes = 0;
    existing.codesSent = 0;
    delete existing.account;
    return existing;
  }
  return env.world.auth.create();
}

function signinInit(env: CoreEnv, req: SimRequest): SimResponse {
  const session = sessionForInit(env, req);
  const body = parseBody(req, InitBody);
  if (!body || !BASE64.test(body.a)) {
    return { status: 400, headers: idmsaHeaders(env, session), json: serviceErrors("-20000", "Invalid request.") };
  }
  const account = env.world.accounts.byAppleId(body.accountName);
  if (account) account.stats.signin_init += 1;
  // Unknown accounts get a believable challenge and fail at complete (no account enumeration).
  const record = account?.srp ?? createSrpRecord(randomBytes(16).toString("hex"), "s2k", 20064);
  if (!body.protocols.includes(record.protocol)) {
    return { status: 400, headers: idmsaHeaders(env, session), json: serviceErrors("-20000", "Unsupported protocol.") };
  }
  let server: SrpServerSession;
  try {
    server = new SrpServerSession(record, body.accountName, Buffer.from(body.a, "base64"));
  } catch {
    return { status: 400, headers: idmsaHeaders(env, session), json: serviceErrors("-20000", "Invalid request.") };
  }
  // The account (and its country header) is only tied to the session once the proof is accepted.
  const pending = env.world.auth.addPendingSrp({
    authSessionId: session.id,
    accountName: body.accountName,
    account,
    server,
  });
  return {
    status: 200,
    headers: idmsaHeaders(env, session),
    json: {
      iteration: record.iterations,
      salt: record.salt.toString("base64"),
      protocol: record.protocol,
      b: server.publicKey,
      c: pending.c,
      version: 1,
    },
  };
}

function signinComplete(env: CoreEnv, req: SimRequest): SimResponse {
  const body = parseBody(req, CompleteBody);
  // Every client sends accountName, c, m1 and m2 (pyicloud `pyicloud/base.py`, icloudpd
  // `src/pyicloud_ipd/base.py`, icloud-photos-sync `app/src/lib/icloud/icloud.ts`); without them
  // there is no proof to check. Apple answers a malformed SRP payload with 400 (reference 1.7, kei).
  if (!body || !BASE64.test(body.m1) || !BASE64.test(body.m2)) {
    return { status: 400, json: serviceErrors("-20000", "Invalid request.") };
  }
  const exchange = env.world.auth.peekPendingSrp(body.c);
  let session: AuthSession | undefined;
  if (isStrict(env, exchange?.account)) {
    // Strict (opt-in): the proof must come with the auth context signin/init answered with, its
    // X-Apple-ID-Session-Id (or aasp) and latest scnt, as our own client echoes them.
    session = strictAuthSession(env, req);
    if (!session) return noAuthContext();
    // `c` from another auth context: this client did not echo what its signin/init returned.
    if (exchange !== undefined && exchange.authSessionId !== session.id) return noAuthContext();
  } else {
    // Lenient: `c` names the exchange and so its auth context. timlaing/pyicloud
    // `pyicloud/base.py` `_srp_authentication` posts signin/complete with the very headers dict it
    // built before signin/init (no scnt, no X-Apple-ID-Session-Id on a first sign-in; on later ones
    // the values stored before init), icloudpd `src/pyicloud_ipd/base.py` `_authenticate_srp` does
    // the same, and both sign in against Apple every day.
    session = env.world.auth.live(exchange?.authSessionId) ?? requestAuthSession(env, req);
  }
  const pending = env.world.auth.takePendingSrp(body.c);
  // Unknown, expired or already answered `c` (a replay), or another account name: malformed
  // (the simulator's choice; no client sends these).
  if (!pending || pending.accountName !== body.accountName || !session) {
    return {
      status: 400,
      ...(session ? { headers: idmsaHeaders(env, session) } : {}),
      json: serviceErrors("-20000", "Invalid request."),
    };
  }
  const account = pending.account;
  // Locked accounts: 403 -20209 (kei#333, reference 1.7); wrong proof: 401 -20101 (reference 1.7).
  if (account?.config.locked) {
    return {
      status: 403,
      headers: idmsaHeaders(env, session),
      json: serviceErrors("-20209", "This Apple Account has been locked for security reasons."),
    };
  }
  if (!account || !pending.server.verify(body.m1, body.m2)) {
    if (account) account.stats.srp_failures += 1;
    return {
      status: 401,
      headers: idmsaHeaders(env, session),
      json: serviceErrors("-20101", "Enter the email or phone number and password for your Apple Account."),
    };
  }
  account.stats.srp_signins += 1;
  session.srpVerified = true;
  session.account = account;
  const trusted = (body.trustTokens ?? []).some(
    (value) => typeof value === "string" && env.world.findTrustToken(value, account) !== undefined,
  );
  if (account.config.mfa.kind === "hsa2" && !trusted) return twoFactorNeeded(env, session, account);
  const mfaDone = trusted || account.config.mfa.kind === "none";
  session.mfaDone = mfaDone;
  if (account.config.repair_needed) return repairNeeded(env, session, account, mfaDone);
  const token = env.world.issueSessionToken(account, { mfaDone });
  return {
    status: 200,
    headers: idmsaHeaders(env, session, { "X-Apple-Session-Token": token.value }),
    json: { authType: authTypeOf(account) },
  };
}

function authTypeOf(account: SimAccount): string {
  const kind = account.config.mfa.kind;
  return kind === "hsa2" ? "hsa2" : kind === "2sv" ? "hsa" : "sa";
}

/** 409: the account needs a second factor. Security-key accounts also get their FIDO challenge. */
function twoFactorNeeded(env: CoreEnv, session: AuthSession, account: SimAccount): SimResponse {
  const token = env.world.issueSessionToken(account, { mfaDone: false });
  session.authAttributes = newAuthAttributes();
  const json: Record<string, unknown> = { authType: "hsa2" };
  if (account.config.security_key) Object.assign(json, securityKeyFields());
  return {
    status: 409,
    headers: idmsaHeaders(env, session, {
      "X-Apple-Session-Token": token.value,
      "X-Apple-TwoSV-Trust-Eligible": "true",
      "X-Apple-Auth-Attributes": session.authAttributes,
      Location: "/auth",
    }),
    json,
  };
}

/** 412: terms/repair must be acknowledged with `POST /repair/complete` before the session is usable. */
export function repairNeeded(env: CoreEnv, session: AuthSession, account: SimAccount, mfaDone: boolean): SimResponse {
  session.repairPending = true;
  const token = env.world.issueSessionToken(account, { mfaDone, repairPending: true });
  return {
    status: 412,
    headers: idmsaHeaders(env, session, {
      "X-Apple-Session-Token": token.value,
      "X-Apple-Repair-Session-Token": newRepairToken(),
      Location: "https://appleid.apple.com/widget/account/repair?widgetKey=simulator#!repair",
    }),
    json: { auth_type: authTypeOf(account) === "hsa2" ? "hsa2" : "sa" },
  };
}

export function securityKeyFields(): Record<string, unknown> {
  return {
    fsaChallenge: {
      challenge: randomBytes(32).toString("base64"),
      keyHandles: [randomBytes(64).toString("base64")],
      rpId: "apple.com",
    },
    keyNames: ["Security Key"],
  };
}
