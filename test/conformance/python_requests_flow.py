"""Drives one flow with Python's real `requests` + `http.cookiejar`, the way the pyicloud lineage
does (timlaing/pyicloud `pyicloud/base.py`, icloudpd `src/pyicloud_ipd/base.py`): signin/complete
with the headers built before signin/init, device code, trust, accountLogin, validate, and
CloudKit `zones/list` with no query string. Prints one JSON line with what happened.

Usage: python3 python_requests_flow.py ORIGIN APPLE_ID PASSWORD
"""
import base64
import hashlib
import json
import secrets
import sys

import requests

N = int(
    "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310D"
    "CD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF"
    "747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D5"
    "7D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFB"
    "B694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73",
    16,
)
G = 2
WIDGET = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d"


def h(*parts: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.digest()


def to_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def pad(value: int) -> bytes:
    return value.to_bytes(256, "big")


def main() -> None:
    origin, apple_id, password = sys.argv[1:4]
    auth, setup = f"{origin}/appleauth/auth", f"{origin}/setup/ws/1"
    session = requests.Session()
    session.headers.update({"Origin": "https://www.icloud.com", "Referer": "https://www.icloud.com/"})
    data: dict = {}

    def store(response: requests.Response) -> requests.Response:
        for header, key in (("scnt", "scnt"), ("X-Apple-ID-Session-Id", "session_id"),
                            ("X-Apple-Session-Token", "session_token"), ("X-Apple-TwoSV-Trust-Token", "trust_token"),
                            ("X-Apple-ID-Account-Country", "account_country")):
            if response.headers.get(header):
                data[key] = response.headers[header]
        return response

    def auth_headers() -> dict:
        headers = {"Accept": "application/json, text/javascript", "Content-Type": "application/json",
                   "X-Apple-Widget-Key": WIDGET, "X-Apple-OAuth-Client-Id": WIDGET,
                   "X-Apple-OAuth-Client-Type": "firstPartyAuth", "X-Apple-OAuth-Redirect-URI": "https://www.icloud.com",
                   "X-Apple-OAuth-Require-Grant-Code": "true", "X-Apple-OAuth-Response-Mode": "web_message",
                   "X-Apple-OAuth-Response-Type": "code", "X-Apple-OAuth-State": "auth-python"}
        if data.get("scnt"):
            headers["scnt"] = data["scnt"]
        if data.get("session_id"):
            headers["X-Apple-ID-Session-Id"] = data["session_id"]
        return headers

    a = secrets.randbits(256)
    big_a = pow(G, a, N)
    headers = auth_headers()
    init = store(session.post(f"{auth}/signin/init", json={"a": base64.b64encode(to_bytes(big_a)).decode(),
                                                           "accountName": apple_id, "protocols": ["s2k", "s2k_fo"]},
                              headers=headers)).json()
    salt, big_b = base64.b64decode(init["salt"]), int.from_bytes(base64.b64decode(init["b"]), "big")
    digest = hashlib.sha256(password.encode()).digest()
    pw = digest.hex().encode() if init["protocol"] == "s2k_fo" else digest
    p = hashlib.pbkdf2_hmac("sha256", pw, salt, init["iteration"], 32)
    x = int.from_bytes(h(salt, h(b":" + p)), "big")
    k = int.from_bytes(h(to_bytes(N), pad(G)), "big")
    u = int.from_bytes(h(pad(big_a), pad(big_b)), "big")
    key = h(to_bytes(pow((big_b - k * pow(G, x, N)) % N, a + u * x, N)))
    xor = bytes(i ^ j for i, j in zip(h(to_bytes(N)), h(pad(G))))
    m1 = h(xor, h(apple_id.encode()), salt, to_bytes(big_a), to_bytes(big_b), key)
    m2 = h(to_bytes(big_a), m1, key)
    complete = store(session.post(f"{auth}/signin/complete", params={"isRememberMeEnabled": "true"}, headers=headers,
                                  json={"accountName": apple_id, "c": init["c"], "m1": base64.b64encode(m1).decode(),
                                        "m2": base64.b64encode(m2).decode(), "rememberMe": True, "trustTokens": []}))
    store(session.put(f"{auth}/verify/trusteddevice/securitycode", headers=auth_headers()))
    code = requests.get(f"{origin}/__sim/accounts/{apple_id}/code").json()["code"]
    verify = store(session.post(f"{auth}/verify/trusteddevice/securitycode", json={"securityCode": {"code": code}},
                                headers=auth_headers()))
    trust = store(session.get(f"{auth}/2sv/trust", headers=auth_headers()))
    login = session.post(f"{setup}/accountLogin", json={"accountCountryCode": data.get("account_country"),
                                                         "dsWebAuthToken": data["session_token"], "extended_login": True,
                                                         "trustToken": data.get("trust_token", "")})
    validate = session.post(f"{setup}/validate", data="null")
    ck = login.json()["webservices"]["ckdatabasews"]["url"]
    zones = session.post(f"{ck}/database/1/com.apple.photos.cloud/production/private/zones/list", data="{}",
                         headers={"Content-type": "text/plain"})
    print(json.dumps({
        "complete": complete.status_code, "verify": verify.status_code, "trust": trust.status_code,
        "accountLogin": login.status_code, "trusted": login.json().get("hsaTrustedBrowser"),
        "validate": validate.status_code, "zones": zones.status_code,
        "zoneNames": [z["zoneID"]["zoneName"] for z in zones.json().get("zones", [])],
        "cookies": sorted({c.name for c in session.cookies}),
    }))


if __name__ == "__main__":
    main()
