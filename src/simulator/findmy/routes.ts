import { z } from "zod";
import type { ServiceRoutesFactory, SimServiceContext } from "../context.ts";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import { FindMyAccount, type FindMyActionKind, type FindMyProbe } from "./account.ts";
import { parseFindMyScenario } from "./scenario.ts";

const BASE = "/fmipservice/client/web";

const clientContextSchema = z
  .object({
    fmly: z.boolean().optional(),
    shouldLocate: z.boolean().optional(),
    selectedDevice: z.string().optional(),
  })
  .loose();

const refreshBodySchema = z
  .object({
    clientContext: clientContextSchema.optional(),
    serverContext: z.record(z.string(), z.unknown()).nullable().optional(),
    isUpdatingAllLocations: z.boolean().optional(),
  })
  .loose();

const playSoundSchema = z
  .object({ device: z.string().min(1), subject: z.string().optional(), clientContext: clientContextSchema.optional() })
  .loose();

const sendMessageSchema = z
  .object({
    device: z.string().min(1),
    subject: z.string().optional(),
    text: z.string(),
    userText: z.boolean().optional(),
    sound: z.boolean().optional(),
    vibrate: z.boolean().optional(),
    strobe: z.boolean().optional(),
    clientContext: clientContextSchema.optional(),
  })
  .loose();

const lostDeviceSchema = z
  .object({
    device: z.string().min(1),
    text: z.string().optional(),
    userText: z.boolean().optional(),
    ownerNbr: z.string().optional(),
    lostModeEnabled: z.boolean().optional(),
    trackingEnabled: z.boolean().optional(),
    emailUpdates: z.boolean().optional(),
    passcode: z.string().optional(),
    clientContext: clientContextSchema.optional(),
  })
  .loose();

const ACTIONS = {
  playSound: { schema: playSoundSchema, command: "snd" },
  sendMessage: { schema: sendMessageSchema, command: "msg" },
  lostDevice: { schema: lostDeviceSchema, command: "lostDevice" },
} as const;

/** Latest Find My world per dsid, for tests (`findMyProbe`). */
const probes = new Map<string, FindMyProbe>();

/** What a test can read about an account's Find My world: woken counters and recorded actions. */
export function findMyProbe(dsid: string): FindMyProbe {
  const probe = probes.get(dsid);
  if (probe === undefined) throw new Error(`no simulated Find My account with dsid ${dsid}`);
  return probe;
}

/** Cookies that identify the iCloud web session a Find My session hangs on. */
const WEB_SESSION_COOKIES = /^X-APPLE-(WEBAUTH-(TOKEN|LOGIN|USER|HSA-LOGIN)|DS-WEB-SESSION-TOKEN)$/;

function webSessionKey(req: SimRequest): string {
  const parts = [...req.cookies]
    .filter(([name]) => WEB_SESSION_COOKIES.test(name))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return parts.map(([name, value]) => `${name}=${value}`).join(";");
}

function parseBody<T>(schema: z.ZodType<T>, req: SimRequest): T | undefined {
  const text = req.body.toString("utf8").trim();
  let raw: unknown = {};
  if (text !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  const result = schema.safeParse(raw ?? {});
  return result.success ? result.data : undefined;
}

/**
 * No web session, or its Find My session is older than `sessionLifespan` (15 min): 450, what
 * icloudpd#1262 reports after 15 minutes and pyicloud `pyicloud/session.py` maps to
 * re-authentication (reference 2.3). The session hangs on the web-auth cookies only (no `dsid`
 * needed, see `createServiceContext`); `initClient` is optional (older clients only refresh).
 */
const AUTH_REQUIRED: SimResponse = { status: 450, text: "" };
/**
 * A body that is not JSON. Every client sends JSON (`{}` at least; pyicloud
 * `pyicloud/services/findmyiphone.py`, reference 2.1); all fields are optional. Status and body are
 * the simulator's choice, as is 400 "Invalid device id" for an action on an unknown device.
 */
const BAD_REQUEST: SimResponse = { status: 400, json: { statusCode: "400", errorMessage: "Bad Request" } };

/** Find My (`findme` webservice): initClient, refreshClient, playSound, sendMessage, lostDevice. */
export const createFindMyRoutes: ServiceRoutesFactory = (ctx: SimServiceContext): Route[] => {
  const epoch = ctx.clock.now();
  const accounts = new Map<string, FindMyAccount>();
  for (const account of ctx.accounts()) {
    const world = new FindMyAccount(account.dsid, parseFindMyScenario(account.services.findmy, account), epoch);
    accounts.set(account.dsid, world);
    probes.set(account.dsid, world);
  }

  /** Session checks shared by every Find My call; undefined means "answer 450". */
  function open(req: SimRequest, init: boolean) {
    const account = ctx.authenticate(req);
    const world = account === undefined ? undefined : accounts.get(account.dsid);
    if (world === undefined) return undefined;
    const now = ctx.clock.now();
    const lookup = world.session(webSessionKey(req), now, init);
    return lookup.ok ? { world, session: lookup.session, now } : undefined;
  }

  function client(init: boolean) {
    return (req: SimRequest): SimResponse => {
      const body = parseBody(refreshBodySchema, req);
      if (body === undefined) return BAD_REQUEST;
      const opened = open(req, init);
      if (opened === undefined) return AUTH_REQUIRED;
      const { world, session, now } = opened;
      const context = body.clientContext ?? {};
      const family = context.fmly ?? false;
      const asked =
        context.shouldLocate === true ? world.locate(context.selectedDevice ?? "all", family, now) : undefined;
      return { status: 200, json: world.envelope(session, now, family, asked) };
    };
  }

  function action(kind: FindMyActionKind) {
    const { schema, command } = ACTIONS[kind];
    return (req: SimRequest): SimResponse => {
      const body = parseBody<Record<string, unknown> & { device: string }>(schema, req);
      if (body === undefined) return BAD_REQUEST;
      const opened = open(req, false);
      if (opened === undefined) return AUTH_REQUIRED;
      const { world, session, now } = opened;
      const device = world.device(body.device);
      if (device === undefined) {
        return { status: 400, json: { statusCode: "400", errorMessage: "Invalid device id" } };
      }
      const { device: _id, clientContext: _context, ...fields } = body;
      world.record({ kind, device: body.device, at: now, body });
      device.commands.set(command, { kind: command, createTimestamp: now, body: fields });
      if (kind === "lostDevice") device.lostModeEnabled = body["lostModeEnabled"] !== false;
      return { status: 200, json: world.envelope(session, now, true) };
    };
  }

  const route = (name: string, handle: Route["handle"]): Route => ({
    id: `fmip.${name}`,
    method: "POST",
    path: `${BASE}/${name}`,
    handle,
  });
  return [
    route("initClient", client(true)),
    route("refreshClient", client(false)),
    route("playSound", action("playSound")),
    route("sendMessage", action("sendMessage")),
    route("lostDevice", action("lostDevice")),
  ];
};
