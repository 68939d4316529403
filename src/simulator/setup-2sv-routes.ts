import { z } from "zod";
import { type CoreEnv, cookieLine, isStrict, parseBody } from "./core-env.ts";
import type { Route, SimRequest, SimResponse } from "./router.ts";
import { MISDIRECTED, requestWebSession, SETUP } from "./setup-session.ts";
import type { SimAccount } from "./sim-accounts.ts";
import { HSA_TRUST } from "./web-cookies.ts";
import type { WebSession } from "./world.ts";

const DeviceBody = z.looseObject({ deviceId: z.union([z.string(), z.number()]).transform(String) });
const ValidateBody = DeviceBody.extend({
  verificationCode: z.union([z.string(), z.number()]).transform(String),
  trustBrowser: z.boolean().optional(),
});

type Device = SimAccount["config"]["mfa"]["devices_2sv"][number];

function deviceJson(device: Device): Record<string, unknown> {
  const json: Record<string, unknown> = { deviceType: device.device_type, deviceId: device.device_id };
  if (device.area_code !== undefined) json["areaCode"] = device.area_code;
  if (device.phone_number !== undefined) json["phoneNumber"] = device.phone_number;
  if (device.device_name !== undefined) json["deviceName"] = device.device_name;
  return json;
}

/** Legacy two-step verification on the setup service (hsaVersion 1 accounts). */
export function setup2svRoutes(env: CoreEnv): Route[] {
  /**
   * 2SV calls run in the (still restricted) web session of accountLogin (pyicloud/icloudpd
   * `trusted_devices`, `send_verification_code`, `validate_verification_code` post with the session's
   * cookies). They also send `dsid` in their params, but nothing shows Apple needs it: only the
   * strict variant asks for it.
   */
  const inSession = (req: SimRequest, run: (session: WebSession) => SimResponse): SimResponse => {
    const session = requestWebSession(env, req);
    if (!session) return MISDIRECTED;
    if (isStrict(env, session.account) && req.url.searchParams.get("dsid") !== session.account.dsid) {
      return MISDIRECTED;
    }
    return run(session);
  };
  const findDevice = (session: WebSession, id: string): Device | undefined =>
    session.account.config.mfa.kind === "2sv"
      ? session.account.config.mfa.devices_2sv.find((device) => device.device_id === id)
      : undefined;
  // A device id the account does not have: no client sends one (they echo listDevices); status and
  // body are the simulator's choice. A wrong code answers like Apple (200 + errorCode -21669,
  // icloudpd cassette `2sa_flow_invalid_code.yml`, reference 1.9).
  const unknownDevice: SimResponse = { status: 400, json: { success: false, error: "Invalid device" } };

  return [
    {
      id: "setup.listDevices",
      method: ["GET", "POST"],
      path: `${SETUP}/listDevices`,
      handle: (req) =>
        inSession(req, (session) => {
          const devices = session.account.config.mfa.kind === "2sv" ? session.account.config.mfa.devices_2sv : [];
          return { status: 200, json: { devices: devices.map(deviceJson) } };
        }),
    },
    {
      id: "setup.sendVerificationCode",
      method: "POST",
      path: `${SETUP}/sendVerificationCode`,
      handle: (req) =>
        inSession(req, (session) => {
          const body = parseBody(req, DeviceBody);
          const device = body ? findDevice(session, body.deviceId) : undefined;
          if (!device) return unknownDevice;
          env.world.accounts.sendCode(session.account, `2sv:${device.device_id}`, "2sv");
          return { status: 200, json: { success: true } };
        }),
    },
    {
      id: "setup.validateVerificationCode",
      method: "POST",
      path: `${SETUP}/validateVerificationCode`,
      handle: (req) =>
        inSession(req, (session) => {
          const body = parseBody(req, ValidateBody);
          const device = body ? findDevice(session, body.deviceId) : undefined;
          if (!body || !device) return unknownDevice;
          if (!env.world.accounts.checkCode(session.account, `2sv:${device.device_id}`, body.verificationCode)) {
            return {
              status: 200,
              json: {
                success: false,
                errorTitle: "Invalid Code",
                errorMessage: "The code you entered is not valid.",
                errorCode: -21669,
              },
            };
          }
          session.mfaDone = true;
          const headers: Record<string, string[]> = {};
          if (body.trustBrowser) {
            const trust = env.world.issueTrustToken(session.account);
            headers["Set-Cookie"] = [cookieLine(env, HSA_TRUST, `"${trust.value}"`, { expires: trust.expiresAt })];
          }
          return { status: 200, headers, json: { success: true } };
        }),
    },
  ];
}
