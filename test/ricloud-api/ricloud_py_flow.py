"""Drives the ricloud-compatible API the way ricloud-py 3.2 does on the wire, with Python's requests.

Shaped after ricloud-py's request handler and resources (written for this test, not copied):
- one requests.Session; every call sends `Authorization: Token <key>`;
- create and update are POSTs whose body is a JSON string passed as `data=` (no Content-Type),
  update is a POST to the instance URL, list filters go in `params=`;
- URLs are built with urljoin(RICLOUD_URL, "<path>"), so the API must live at the root;
- a status >= 400 makes the client JSON-decode the body as {error, message, params};
- `local://` result URLs are read as plain paths (ricloud-py's storage helper).

Usage: ricloud_py_flow.py URL TOKEN APPLE_ID PASSWORD CODE; prints a JSON summary on stdout.
"""

import hashlib
import json
import sys
import time
from urllib.parse import urljoin, urlsplit

import requests

URL, TOKEN, APPLE_ID, PASSWORD, CODE = sys.argv[1:6]
http = requests.Session()


class RequestError(Exception):
    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = json.loads(body)


def send(method, path, data=None, params=None, extra=None):
    headers = {"Authorization": "Token " + TOKEN, "User-Agent": "ricloud-py/3.2.0"}
    headers.update(extra or {})
    body = None if data is None else json.dumps(data)
    response = http.request(method, urljoin(URL, path), headers=headers, data=body, params=params)
    if response.status_code >= 400:
        raise RequestError(response.status_code, response.content)
    return json.loads(response.content)


def create(path, **data):
    return send("POST", path, data=data)


def retrieve(path, id):
    return send("GET", "{}/{}".format(path, id))


def update(path, id, **data):
    return send("POST", "{}/{}".format(path, id), data=data)


def listing(path, **params):
    return send("GET", path, params=params)


def await_response(path, resource, timeout=60):
    deadline = time.time() + timeout
    while resource["state"] in ("pending", "processing") and time.time() < deadline:
        time.sleep(0.2)
        resource = retrieve(path, resource["id"])
    return resource


def download(url):
    with open(urlsplit(url).path, "rb") as handle:
        return handle.read()


summary = {}

user = create("users", identifier="python-user")
summary["user"] = user["resource"]
user = update("users", user["id"], identifier="python-user-renamed")
summary["renamed"] = user["identifier"]

source = {"user": user["id"], "type": "icloud.account", "identifier": APPLE_ID}
session = await_response("sessions", create("sessions", source=source, payload={"password": PASSWORD}))
summary["first_attempt"] = [session["state"], session["error"]]
session = await_response(
    "sessions", create("sessions", source=source, payload={"password": PASSWORD, "code": CODE})
)
summary["second_attempt"] = [session["state"], session["error"]]

sources = listing("sources", user=user["id"], identifier=APPLE_ID)
latest = listing("sessions", source=sources["data"][0]["id"], state="active", limit=1)
summary["latest_session"] = [latest["resource"], latest["data"][0]["id"] == session["id"], latest["has_more"]]

poll = create("polls", session=session["id"], payload={"data_types": ["callkit.calls"]})
poll = await_response("polls", poll)
summary["calls_poll"] = poll["state"]
result = poll["results"][0]
data = json.loads(download(result["url"]))
summary["calls"] = [result["identifier"], result["type"], len(data["data"]), data["data"][0]["data_type"]]

photos = await_response("polls", create("polls", session=session["id"], payload={"data_types": ["icpl.photos"]}))
assets = json.loads(download(photos["results"][0]["url"]))["data"]
file_ids = [entry["files"][0]["id"] for entry in assets if "files" in entry][:2]
files = create("polls", session=session["id"], payload={"files": file_ids})
files = await_response("polls", files)
stored = files["results"][0]
raw = download(stored["url"])
summary["file"] = [
    files["state"],
    len(files["results"]),
    stored["identifier"] in file_ids,
    len(raw) == stored["size"],
    hashlib.md5(raw).hexdigest() == stored["checksum"],
]

acked = send("POST", "results/{}/ack".format(stored["id"]))
summary["ack"] = acked["state"]

try:
    create("polls", session=session["id"], payload={"data_types": ["ios_messages.messages"]})
    summary["error"] = None
except RequestError as error:
    summary["error"] = [error.status, error.body["error"], sorted(error.body["params"].keys())]

awaited = send(
    "POST", "polls", data={"session": session["id"], "payload": {"info_types": ["*"]}}, extra={"Ricloud-Await": "10"}
)
summary["awaited"] = awaited["state"]

json.dump(summary, sys.stdout)
