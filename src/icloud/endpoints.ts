/**
 * Apple hosts used by the iCloud client. One option, `endpoint`, replaces every Apple host with a
 * single origin (idmsa under `/appleauth/auth`, setup under `/setup/ws/1`): that is how the client
 * reaches the simulator or a test server; nothing else in the client knows about it.
 */
export interface Endpoints {
  /** Apple ID (GSA web) auth base, e.g. `https://idmsa.apple.com/appleauth/auth`. */
  idmsa: string;
  /** Origin of the idmsa host, used for matching session headers. */
  idmsaOrigin: string;
  /** iCloud web home (Origin/Referer of setup calls, OAuth redirect URI). */
  home: string;
  /** Setup service base, e.g. `https://setup.icloud.com/setup/ws/1`. */
  setup: string;
}

export interface EndpointOptions {
  /** A base origin like `http://127.0.0.1:8443` that replaces every Apple host. */
  endpoint?: string;
  /** China mainland account (`.com.cn` web home and setup hosts). */
  china?: boolean;
}

export const IDMSA_PATH = "/appleauth/auth";
export const SETUP_PATH = "/setup/ws/1";

/**
 * China mainland: pyicloud HEAD (2026, PR #285) signs in at `idmsa.apple.com` and only changes the
 * redirect URI / web home; icloudpd uses `idmsa.apple.com.cn`. We follow the newest client
 * (international idmsa, `.com.cn` home and setup hosts); `endpoint` can override everything.
 */
export function resolveEndpoints(options: EndpointOptions = {}): Endpoints {
  if (options.endpoint !== undefined && options.endpoint !== "") {
    const origin = normaliseOrigin(options.endpoint);
    return { idmsa: origin + IDMSA_PATH, idmsaOrigin: origin, home: origin, setup: origin + SETUP_PATH };
  }
  if (options.china === true) {
    return {
      idmsa: `https://idmsa.apple.com${IDMSA_PATH}`,
      idmsaOrigin: "https://idmsa.apple.com",
      home: "https://www.icloud.com.cn",
      setup: `https://setup.icloud.com.cn${SETUP_PATH}`,
    };
  }
  return {
    idmsa: `https://idmsa.apple.com${IDMSA_PATH}`,
    idmsaOrigin: "https://idmsa.apple.com",
    home: "https://www.icloud.com",
    setup: `https://setup.icloud.com${SETUP_PATH}`,
  };
}

function normaliseOrigin(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`endpoint is not a URL: ${endpoint}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new TypeError(`endpoint must be http(s): ${endpoint}`);
  return url.origin;
}

/** iCloud.com's OAuth widget key (also the OAuth client id). */
export const WIDGET_KEY = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";
export const CLIENT_BUILD_NUMBER = "2534Project66";
export const CLIENT_MASTERING_NUMBER = "2534B22";
export const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15";
