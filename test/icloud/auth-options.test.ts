import { describe, expect, it } from "vitest";
import { parseAuthOptions } from "../../src/icloud/auth-options.ts";
import { resolveEndpoints } from "../../src/icloud/endpoints.ts";

const phone = (id: number, last: string, mode = "sms") => ({
  id,
  numberWithDialCode: `+1 (•••) •••-••${last}`,
  obfuscatedNumber: `(•••) •••-••${last}`,
  pushMode: mode,
  lastTwoDigits: last,
});

function page(direct: unknown): string {
  return `<!DOCTYPE html><html><head>
<script type="application/json" class="pre">{"foo":1}</script>
<script type="application/json" class="boot_args">${JSON.stringify({ direct })}</script>
<script type="application/json" class="post">{}</script></head><body></body></html>`;
}

describe("auth options (GET /appleauth/auth)", () => {
  it("reads the legacy layout twoSV.phoneNumberVerification", () => {
    const html = page({
      authType: "hsa2",
      twoSV: {
        phoneNumberVerification: {
          trustedPhoneNumbers: [phone(1, "80"), phone(2, "58", "voice")],
          trustedPhoneNumber: phone(1, "80"),
        },
      },
    });
    expect(parseAuthOptions(html).trustedPhoneNumbers).toEqual([
      { id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" },
      { id: 2, number: "+1 (•••) •••-••58", push_mode: "voice" },
    ]);
  });

  it("reads the 2026 layout twoSV.bridgeInitiateData.phoneNumberVerification", () => {
    const html = page({
      authType: "hsa2",
      authInitialRoute: "auth/bridge/step",
      twoSV: {
        bridgeInitiateData: { apnsTopic: "x", phoneNumberVerification: { trustedPhoneNumbers: [phone(3, "12")] } },
      },
    });
    expect(parseAuthOptions(html).trustedPhoneNumbers).toEqual([
      { id: 3, number: "+1 (•••) •••-••12", push_mode: "sms" },
    ]);
  });

  it("falls back to a JSON body", () => {
    const json = JSON.stringify({ trustedPhoneNumbers: [phone(5, "99")], securityCode: { length: 6 } });
    expect(parseAuthOptions(json).trustedPhoneNumbers.map((p) => p.id)).toEqual([5]);
    expect(parseAuthOptions("<html>nothing</html>").trustedPhoneNumbers).toEqual([]);
  });

  it("notices security-key accounts", () => {
    expect(parseAuthOptions(JSON.stringify({ fsaChallenge: { challenge: "x" } })).securityKey).toBe(true);
  });
});

describe("endpoints", () => {
  it("one endpoint option replaces every Apple host", () => {
    expect(resolveEndpoints({ endpoint: "http://127.0.0.1:8080/ignored" })).toEqual({
      idmsa: "http://127.0.0.1:8080/appleauth/auth",
      idmsaOrigin: "http://127.0.0.1:8080",
      home: "http://127.0.0.1:8080",
      setup: "http://127.0.0.1:8080/setup/ws/1",
    });
  });
  it("has international and China mainland defaults", () => {
    expect(resolveEndpoints().setup).toBe("https://setup.icloud.com/setup/ws/1");
    expect(resolveEndpoints().idmsa).toBe("https://idmsa.apple.com/appleauth/auth");
    expect(resolveEndpoints({ china: true }).setup).toBe("https://setup.icloud.com.cn/setup/ws/1");
    expect(resolveEndpoints({ china: true }).home).toBe("https://www.icloud.com.cn");
  });
});
