import { describe, expect, it } from "vitest";
import { FriendlyNames } from "../../../../src/engine/services/findmy/friendly-names.ts";
import type { FmipDevice } from "../../../../src/icloud/findmy/types.ts";
import { fakeDevice } from "../../../../src/testing/fixtures.ts";

const byId = (...devices: FmipDevice[]) => Object.fromEntries(devices.map((d) => [d.id, d]));

describe("friendly names of Find My devices", () => {
  it("slugs names as Home Assistant does, never twice in one account, with a key from the id when nothing is left", () => {
    const names = new FriendlyNames({});
    const devices = byId(
      fakeDevice("a", "爸爸的手机"),
      fakeDevice("b", "爸爸的手机"),
      fakeDevice("c", "Børge’s iPhone"),
      fakeDevice("d", "Straße-Mac"),
      fakeDevice("e", "😀"),
    );
    names.assignAll(devices);
    expect(Object.fromEntries(Object.values(devices).map((d) => [d.id, d.slug]))).toEqual({
      a: "ba_ba_de_shou_ji",
      b: "ba_ba_de_shou_ji_2",
      c: "borges_iphone",
      d: "strasse_mac",
      e: expect.stringMatching(/^device_[0-9a-f]{8}$/),
    });
    // Stable: the same device id always gets the same key.
    const again = byId(fakeDevice("e", "😀"));
    names.assignAll(again);
    expect(again["e"]?.slug).toBe(devices["e"]?.slug);
  });

  it("keeps a name once given (a rename in iCloud moves no topic), and configured names win", () => {
    const renamed = { ...fakeDevice("a", "Mum's new phone"), slug: "mum_s_phone" };
    const known = byId(renamed, { ...fakeDevice("b", "Kitchen iPad"), slug: "kitchen" });
    expect(new FriendlyNames({}).assign(known, renamed)).toBe("mum_s_phone");
    // By id or by name (ignoring case); another device holding a configured name gives it up.
    const configured = new FriendlyNames({ a: "kitchen", "KITCHEN IPAD": "tablet" });
    configured.assignAll(known);
    expect(known["a"]?.slug).toBe("kitchen");
    expect(known["b"]?.slug).toBe("tablet");
    // A configured name is reserved even for a device not seen yet.
    expect(configured.assign({}, fakeDevice("z", "Kitchen"))).toBe("kitchen_2");
  });
});
