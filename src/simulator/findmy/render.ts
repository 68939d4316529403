import { type DeviceState, MAX_LOCATING_TIME_MS } from "./device-state.ts";
import type { FindMyScenario } from "./scenario.ts";

/** Apple's feature flags; accessories cannot be located or locked. */
function features(device: DeviceState): Record<string, boolean> {
  const spec = device.spec;
  const accessory = !spec.location_capable;
  return {
    BTR: false,
    LLC: false,
    CLK: false,
    TEU: !accessory,
    SND: true,
    CLT: false,
    SVP: false,
    SPN: false,
    XRM: false,
    CWP: false,
    MSG: !accessory,
    LOC: spec.location_capable,
    LMG: false,
    LKL: false,
    LST: spec.lost_mode_capable,
    LKM: false,
    WMG: !accessory,
    PSS: false,
    PIN: false,
    LCK: !accessory,
    REM: false,
    MCS: false,
    KEY: false,
    KPD: false,
    WIP: !accessory,
  };
}

function renderLocation(device: DeviceState, now: number, staleAfterMs: number): Record<string, unknown> | null {
  const fix = device.fix;
  if (fix === null) return null;
  const base = device.spec.location;
  const accuracy = base?.horizontal_accuracy ?? 5;
  return {
    isOld: now - fix.timeStamp > staleAfterMs,
    isInaccurate: accuracy > 500,
    altitude: base?.altitude ?? 0,
    positionType: base?.position_type ?? "GPS",
    secureLocation: null,
    secureLocationTs: 0,
    latitude: fix.latitude,
    floorLevel: 0,
    horizontalAccuracy: accuracy,
    locationType: "",
    timeStamp: fix.timeStamp,
    locationFinished: device.locatingSince === null,
    verticalAccuracy: base?.vertical_accuracy ?? 0,
    locationMode: null,
    longitude: fix.longitude,
  };
}

function command(device: DeviceState, kind: "snd" | "msg" | "lostDevice"): Record<string, unknown> | null {
  const state = device.commands.get(kind);
  if (state === undefined) return null;
  return { ...state.body, createTimestamp: state.createTimestamp, statusCode: "200" };
}

/** One entry of `content`, with Apple's field names. */
export function renderDevice(device: DeviceState, now: number, staleAfterMs: number): Record<string, unknown> {
  const spec = device.spec;
  const level = device.batteryAt(now);
  return {
    msg: command(device, "msg"),
    canWipeAfterLock: spec.location_capable,
    baUUID: "",
    wipeInProgress: false,
    lostModeEnabled: device.lostModeEnabled,
    activationLocked: spec.location_capable,
    passcodeLength: spec.passcode_length,
    deviceStatus: spec.online,
    deviceColor: spec.device_color,
    features: features(device),
    lowPowerMode: spec.low_power_mode,
    rawDeviceModel: spec.raw_device_model,
    id: spec.id,
    remoteLock: null,
    isLocating: device.locatingSince !== null,
    modelDisplayName: spec.model_display_name,
    lostTimestamp: "",
    batteryLevel: Math.round(level * 1e6) / 1e6,
    mesg: null,
    locationEnabled: spec.location_enabled,
    lockedTimestamp: null,
    locFoundEnabled: false,
    snd: command(device, "snd"),
    fmlyShare: spec.owner !== null,
    lostDevice: command(device, "lostDevice"),
    lostModeCapable: spec.lost_mode_capable,
    wipedTimestamp: null,
    deviceDisplayName: spec.device_display_name,
    prsId: spec.owner,
    audioChannels: [],
    locationCapable: spec.location_capable,
    batteryStatus: device.batteryStatusAt(now),
    trackingInfo: null,
    name: spec.name,
    isMac: spec.device_class.startsWith("Mac") || spec.device_class === "iMac",
    thisDevice: false,
    deviceClass: spec.device_class,
    location: renderLocation(device, now, staleAfterMs),
    deviceModel: spec.device_model,
    maxMsgChar: 160,
    darkWake: false,
    remoteWipe: null,
  };
}

export interface EnvelopeInput {
  scenario: FindMyScenario;
  prsId: number;
  clientId: string;
  sessionInfo: string;
  now: number;
  /** Answers already served in this Find My session (drives family LOADING). */
  served: number;
  /** Include Family Sharing members' devices (`clientContext.fmly`). */
  family: boolean;
  devices: readonly DeviceState[];
}

/** The refreshClient/initClient/action answer (statusCode, userInfo, serverContext, content). */
export function renderEnvelope(input: EnvelopeInput): Record<string, unknown> {
  const { scenario, now } = input;
  const loading = new Set(
    scenario.family.filter((member) => input.served < member.loading_refreshes).map((member) => member.prs_id),
  );
  const membersInfo = Object.fromEntries(
    scenario.family.map((member) => [
      member.prs_id,
      {
        accountFormatter: 0,
        firstName: member.first_name,
        lastName: member.last_name,
        deviceFetchStatus: loading.has(member.prs_id) ? "LOADING" : "DONE",
        useAuthWidget: true,
        isHSA: true,
        appleId: member.apple_id,
      },
    ]),
  );
  const content = input.devices
    .filter((device) => device.spec.owner === null || (input.family && !loading.has(device.spec.owner)))
    .map((device) => renderDevice(device, now, scenario.staleAfterMs));
  return {
    statusCode: "200",
    userInfo: {
      accountFormatter: 0,
      firstName: scenario.firstName,
      lastName: scenario.lastName,
      membersInfo,
      hasMembers: scenario.family.length > 0,
    },
    serverContext: {
      minCallbackIntervalInMS: 5000,
      enable2FAFamilyActions: false,
      preferredLanguage: "en-us",
      lastSessionExtensionTime: null,
      enableMapStats: true,
      callbackIntervalInMS: 2000,
      validRegion: true,
      timezone: {
        currentOffset: 0,
        previousTransition: 0,
        previousOffset: 0,
        tzCurrentName: "Coordinated Universal Time",
        tzName: "UTC",
      },
      authToken: null,
      maxCallbackIntervalInMS: 60000,
      classicUser: false,
      isHSA: true,
      trackInfoCacheDurationInSecs: 86400,
      imageBaseUrl: "https://statici.icloud.com",
      minTrackLocThresholdInMts: 100,
      maxLocatingTime: MAX_LOCATING_TIME_MS,
      sessionLifespan: 900000,
      info: input.sessionInfo,
      prefsUpdateTime: 0,
      useAuthWidget: true,
      clientId: input.clientId,
      enable2FAFamilyRemove: false,
      serverTimestamp: now,
      deviceImageVersion: "4",
      macCount: 0,
      deviceLoadStatus: "200",
      maxDeviceLoadTime: 60000,
      prsId: input.prsId,
      showSllNow: false,
      cloudUser: true,
      enable2FAErase: false,
    },
    alert: null,
    userPreferences: { webPrefs: { id: "web_prefs", selectedDeviceId: input.devices[0]?.spec.id ?? "" } },
    content,
  };
}
