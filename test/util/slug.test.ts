import { describe, expect, it } from "vitest";
import { haSlug, uniqueSlug } from "../../src/util/slug.ts";

describe("Home Assistant's slugify (python-slugify over unidecode)", () => {
  it.each([
    ["爸爸的手机", "ba_ba_de_shou_ji"],
    ["Børge’s iPhone", "borges_iphone"],
    ["Straße-Mac", "strasse_mac"],
    // An ASCII apostrophe separates words; a typographic one (transliterated to ') is dropped.
    ["Jane's iPad", "jane_s_ipad"],
    ["Jane’s iPhone", "janes_iphone"],
    ["Café Mac", "cafe_mac"],
    ["Ærø Watch", "aero_watch"],
    ["Привет мир", "privet_mir"],
    ["iPhone (2)", "iphone_2"],
    ["1,000 Macs", "1000_macs"],
    ["  --iPad__Pro--  ", "ipad_pro"],
    ["!!!", ""],
    ["😀", ""],
  ])("%s → %s", (name, slug) => {
    expect(haSlug(name)).toBe(slug);
  });

  it("numbers clashes and falls back when a name leaves nothing", () => {
    expect(uniqueSlug("爸爸的手机", "dev_1", new Set())).toBe("ba_ba_de_shou_ji");
    expect(uniqueSlug("爸爸的手机", "dev_1", new Set(["ba_ba_de_shou_ji"]))).toBe("ba_ba_de_shou_ji_2");
    expect(uniqueSlug("爸爸的手机", "dev_1", new Set(["ba_ba_de_shou_ji", "ba_ba_de_shou_ji_2"]))).toBe(
      "ba_ba_de_shou_ji_3",
    );
    expect(uniqueSlug("😀", "device_1a2b3c4d", new Set())).toBe("device_1a2b3c4d");
  });
});
