import { authOptionsSchema, trustedPhoneSchema } from "./apple-schemas.ts";

/** A trusted phone number, in the session's public (snake_case) shape. */
export interface TrustedPhoneNumber {
  id: number;
  number: string;
  push_mode: string;
}

export interface AuthOptions {
  trustedPhoneNumbers: TrustedPhoneNumber[];
  /** The account uses hardware security keys (not supported by the bridge). */
  securityKey: boolean;
}

/**
 * Parses the answer of `GET /appleauth/auth`: the HTML page's `boot_args` JSON (phones under
 * `twoSV.phoneNumberVerification` before 2026, `twoSV.bridgeInitiateData.phoneNumberVerification`
 * since), or the older JSON body.
 */
export function parseAuthOptions(body: string): AuthOptions {
  const candidates: unknown[] = [];
  for (const json of scriptJsonBlocks(body)) candidates.push(json);
  const trimmed = body.trim();
  if (trimmed.startsWith("{")) {
    try {
      candidates.push(JSON.parse(trimmed));
    } catch {
      // not JSON
    }
  }
  const phones = new Map<number, TrustedPhoneNumber>();
  let securityKey = false;
  for (const candidate of candidates) {
    const parsed = authOptionsSchema.safeParse(candidate);
    if (!parsed.success) continue;
    const o = parsed.data;
    if (o.fsaChallenge !== undefined || o.direct?.fsaChallenge !== undefined) securityKey = true;
    const lists = [
      o.direct?.twoSV?.bridgeInitiateData?.phoneNumberVerification,
      o.direct?.twoSV?.phoneNumberVerification,
      o.phoneNumberVerification,
      { trustedPhoneNumbers: o.trustedPhoneNumbers, trustedPhoneNumber: o.trustedPhoneNumber },
    ];
    for (const pnv of lists) {
      for (const raw of [
        ...(pnv?.trustedPhoneNumbers ?? []),
        ...(pnv?.trustedPhoneNumber ? [pnv.trustedPhoneNumber] : []),
      ]) {
        const phone = trustedPhoneSchema.safeParse(raw);
        if (!phone.success || phones.has(phone.data.id)) continue;
        phones.set(phone.data.id, {
          id: phone.data.id,
          number: phone.data.numberWithDialCode ?? phone.data.obfuscatedNumber ?? `••${phone.data.lastTwoDigits ?? ""}`,
          push_mode: phone.data.pushMode ?? "sms",
        });
      }
    }
  }
  return { trustedPhoneNumbers: [...phones.values()].sort((a, b) => a.id - b.id), securityKey };
}

/** JSON of `<script type="application/json" ...>` blocks, `boot_args` first. */
function scriptJsonBlocks(html: string): unknown[] {
  const blocks: { bootArgs: boolean; json: unknown }[] = [];
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    const attrs = m[1] ?? "";
    if (!/application\/json/i.test(attrs)) continue;
    try {
      blocks.push({ bootArgs: /boot_args/.test(attrs), json: JSON.parse(decodeEntities((m[2] ?? "").trim())) });
    } catch {
      // skip unparsable blocks
    }
  }
  return blocks.sort((a, b) => Number(b.bootArgs) - Number(a.bootArgs)).map((b) => b.json);
}

function decodeEntities(text: string): string {
  if (text.startsWith("{") || text.startsWith("[")) return text;
  return text
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
