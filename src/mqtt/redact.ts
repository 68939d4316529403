/**
 * Masks an Apple ID for `bridge/info`: `jane.doe@example.com` → `j***@example.com`,
 * `+4915112345678` → `+4***78`. The full Apple ID is personal data and is never published.
 */
export function maskUsername(username: string): string {
  const at = username.indexOf("@");
  if (at > 0) return `${username.slice(0, 1)}***${username.slice(at)}`;
  if (username.length <= 4) return "***";
  return `${username.slice(0, 2)}***${username.slice(-2)}`;
}

/** Replaces every occurrence of each secret in `text` (secrets shorter than 4 characters are ignored). */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}

/** A broker URL without user info (`mqtt://user:pw@host` → `mqtt://host`), for logs. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "<unparseable url>";
  }
}
