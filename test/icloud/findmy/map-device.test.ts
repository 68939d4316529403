import { describe, expect, it } from "vitest";
import { AppleFindMyResponseSchema } from "../../../src/icloud/findmy/apple-schema.ts";
import { mapDevice } from "../../../src/icloud/findmy/map-device.ts";
import { FmipDeviceSchema } from "../../../src/icloud/findmy/types.ts";

/** A refreshClient answer shaped like Apple's (fields trimmed, values realistic). */
const answer = {
  statusCode: "200",
  userInfo: {
    accountFormatter: 0,
    firstName: "Jane",
    lastName: "Doe",
    hasMembers: true,
    membersInfo: {
      "20000000002": {
        accountFormatter: 0,
        firstName: "John",
        lastName: "Appleseed",
        deviceFetchStatus: "DONE",
        useAuthWidget: true,
        isHSA: true,
        appleId: "john@example.com",
      },
    },
  },
  serverContext: {
    callbackIntervalInMS: 2000,
    minCallbackIntervalInMS: 5000,
    maxCallbackIntervalInMS: 60000,
    maxLocatingTime: 90000,
    sessionLifespan: 900000,
    serverTimestamp: 1585867038112,
    prsId: 10000000001,
    clientId: "Y2xpZW50",
    authToken: null,
    info: "opaque",
  },
  alert: null,
  content: [
    {
      id: "Gp7Wz1Q8g3cW1xZBd0+g2sKZ5q1gq0jN",
      name: "Jane's iPhone",
      deviceDisplayName: "iPhone 11",
      deviceModel: "iphone11-1-6-0",
      rawDeviceModel: "iPhone12,1",
      modelDisplayName: "iPhone",
      deviceClass: "iPhone",
      deviceColor: "1-6-0",
      batteryLevel: 0.8299999833106995,
      batteryStatus: "NotCharging",
      lowPowerMode: true,
      deviceStatus: "200",
      isLocating: true,
      locationEnabled: true,
      locationCapable: true,
      lostModeCapable: true,
      fmlyShare: false,
      prsId: null,
      features: { LOC: true, SND: true, MSG: true },
      snd: { createTimestamp: 1584520568680, statusCode: "200" },
      location: {
        isOld: false,
        isInaccurate: false,
        altitude: 0.0,
        positionType: "GPS",
        latitude: 45.12345678901234,
        floorLevel: 0,
        horizontalAccuracy: 4.5370291025030465,
        locationType: "",
        timeStamp: 1585867037749,
        locationFinished: true,
        verticalAccuracy: 0.0,
        longitude: 6.123456789012345,
      },
    },
    {
      id: "AirPodsId",
      name: "Jane's AirPods Pro",
      deviceDisplayName: "AirPods Pro",
      rawDeviceModel: "AirPodsPro1,1",
      modelDisplayName: "Accessory",
      deviceClass: "Accessory",
      batteryLevel: 0.0,
      batteryStatus: "Unknown",
      lowPowerMode: false,
      deviceStatus: "203",
      isLocating: false,
      locationEnabled: true,
      locationCapable: false,
      prsId: null,
      location: null,
    },
    {
      id: "JohnsPhone",
      name: "John's iPhone",
      deviceDisplayName: "iPhone 14",
      rawDeviceModel: "iPhone14,7",
      modelDisplayName: "iPhone",
      deviceClass: "iPhone",
      batteryLevel: 0.47,
      batteryStatus: "Charging",
      lowPowerMode: false,
      deviceStatus: "201",
      isLocating: true,
      locationEnabled: true,
      locationCapable: true,
      fmlyShare: true,
      prsId: "20000000002",
      location: {
        latitude: 51.5155,
        longitude: -0.0922,
        altitude: 21.5,
        horizontalAccuracy: 65,
        verticalAccuracy: 10,
        positionType: "Wifi",
        timeStamp: 1585860000000,
        isOld: true,
        isInaccurate: false,
        locationFinished: false,
      },
    },
  ],
};

function mapped() {
  const parsed = AppleFindMyResponseSchema.parse(answer);
  const context = { members: parsed.userInfo?.membersInfo ?? {}, ownPrsId: "10000000001" };
  return parsed.content.map((device) => mapDevice(device, context));
}

describe("Apple Find My device → fmip.device", () => {
  it("maps a located iPhone of the account holder", () => {
    const [phone] = mapped();
    expect(phone).toEqual({
      id: "Gp7Wz1Q8g3cW1xZBd0+g2sKZ5q1gq0jN",
      data_type: "fmip.device",
      name: "Jane's iPhone",
      model_name: "iPhone 11",
      model_identifier: "iPhone12,1",
      product_type: "iPhone",
      location: {
        data_type: "location",
        latitude: 45.12345678901234,
        longitude: 6.123456789012345,
        altitude: 0,
        horizontal_accuracy: 4.5370291025030465,
        vertical_accuracy: 0,
        positioning_type: "GPS",
        date_created: "2020-04-02T22:37:17.749Z",
      },
      battery_status: "NotCharging",
      battery_level: 0.8299999833106995,
      battery_percent: 83,
      charging: false,
      low_power_mode: true,
      online: true,
      device_status: "200",
      location_capable: true,
      location_stale: false,
      locating: false,
      owner: null,
      last_located: "2020-04-02T22:37:17.749Z",
    });
    expect(FmipDeviceSchema.parse(phone)).toEqual(phone);
  });

  it("maps AirPods without a location and with an unknown battery", () => {
    const airpods = mapped()[1];
    expect(airpods).toMatchObject({
      location: null,
      last_located: null,
      battery_level: 0,
      battery_percent: null,
      battery_status: "Unknown",
      charging: null,
      online: false,
      device_status: "203",
      location_capable: false,
      locating: false,
      owner: null,
    });
  });

  it("maps a family member's offline device with an old fix that is still being located", () => {
    const johns = mapped()[2];
    expect(johns).toMatchObject({
      owner: { id: "20000000002", name: "John Appleseed" },
      online: false,
      device_status: "201",
      charging: true,
      battery_percent: 47,
      location_stale: true,
      locating: true,
      last_located: "2020-04-02T20:40:00.000Z",
    });
    expect(johns?.location).toMatchObject({ positioning_type: "Wifi", altitude: 21.5, vertical_accuracy: 10 });
  });

  it("tolerates missing optional fields and extra ones", () => {
    const parsed = AppleFindMyResponseSchema.parse({
      content: [{ id: "x", name: null, batteryLevel: null, somethingNew: { a: 1 }, deviceStatus: 200 }],
    });
    const [device] = parsed.content.map((d) => mapDevice(d, { members: {}, ownPrsId: undefined }));
    expect(device).toMatchObject({
      id: "x",
      name: "x",
      battery_level: 0,
      battery_percent: null,
      online: true,
      device_status: "200",
      location: null,
      location_capable: false,
    });
  });

  it("rejects an answer whose devices have no id", () => {
    expect(AppleFindMyResponseSchema.safeParse({ content: [{ name: "no id" }] }).success).toBe(false);
  });
});
