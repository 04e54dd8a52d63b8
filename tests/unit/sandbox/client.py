"""A small test client for the sandbox, and an independent normalizer of Apptics bodies.

The normalizer is written from docs/apptics-resources.md alone (it does not use the sandbox's code), so
comparing its output with the sandbox's expected-records oracle checks both against the contract.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import requests

API = "/cx/api/v1"
PATHS = {
    "projects": "/userprojects",
    "crashes": "/crash/list",
    "crash_summary": "/crash/summary",
    "crash_counts_by_date": "/crash/countbydate",
    "crash_issue_counts_by_date": "/crash/{crash_id}/countbydate",
    "crash_detail": "/crash/{crash_id}/summarywithtrace",
    "crash_os_versions": "/crash/{crash_id}/osversion",
    "crash_device_models": "/crash/{crash_id}/devicemodel",
    "affected_devices": "/crash/affecteddevice",
    "active_devices_by_date": "/activedevice/countbydate",
    "active_devices": "/activedevice/multigroup",
    "event_summary": "/event/summary",
    "event_counts_by_date": "/event/countbydate",
    "event_counts_by_country": "/event/countrysummary",
    "event_device_counts": "/event/devicecount",
    "screens": "/screen/multigroup",
    "api_stats": "/api/multigroup",
}
PAGED = set(PATHS) - {"projects", "crash_summary", "crash_detail"}
MULTIGROUP = {"active_devices", "screens", "api_stats"}


class SandboxClient:
    """Mints a token through the token endpoint and calls the API like a client would."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.url = sandbox.url
        self.session = requests.Session()
        self._token: str | None = None

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    # -- accounts
    def token_request(self, **params: str) -> requests.Response:
        return self.session.post(f"{self.url}/oauth/v2/token", data=params, timeout=10)

    def refresh(self, refresh_token: str | None = None, **overrides: str) -> requests.Response:
        params = {
            "grant_type": "refresh_token",
            "client_id": self.sandbox.client_id,
            "client_secret": self.sandbox.client_secret,
            "refresh_token": refresh_token or self.sandbox.refresh_token,
        }
        params.update(overrides)
        return self.token_request(**params)

    def mint(self, refresh_token: str | None = None) -> str:
        response = self.refresh(refresh_token)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.mint()
        return self._token

    # -- apptics
    def headers(self, token: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Zoho-oauthtoken {token or self.token}",
            "zsoid": self.sandbox.portal_id,
            "projectid": self.sandbox.project_id,
        }

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        return self.session.get(
            f"{self.url}{API}{path}", params=params, headers=headers or self.headers(token), timeout=10
        )

    def resource(
        self, resource: str, params: dict[str, Any] | None = None, crash_id: str | None = None, **kwargs: Any
    ) -> requests.Response:
        return self.get(PATHS[resource].format(crash_id=crash_id), params, **kwargs)

    def pages(
        self,
        resource: str,
        params: dict[str, Any] | None = None,
        crash_id: str | None = None,
        limit: int = 500,
        max_pages: int = 100,
    ) -> list[Any]:
        """Every page body, stopping at the first page that is not full (the documented rule)."""
        params = dict(params or {})
        if resource not in PAGED:
            response = self.resource(resource, params, crash_id)
            assert response.status_code == 200, response.text
            return [response.json()]
        bodies = []
        for page in range(max_pages):
            response = self.resource(resource, {**params, "limit": limit, "offset": page * limit}, crash_id)
            assert response.status_code == 200, response.text
            body = response.json()
            bodies.append(body)
            if largest_container(resource, body) < limit:
                return bodies
        raise AssertionError("too many pages")

    def expected(
        self, resource: str, params: dict[str, Any] | None = None, crash_id: str | None = None
    ) -> list[dict[str, Any]]:
        query = dict(params or {})
        if crash_id:
            query["crash_id"] = crash_id
        response = self.session.get(f"{self.url}/__sandbox__/expected/{resource}", params=query, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["records"]

    def control(self, method: str, name: str, json: Any = None) -> requests.Response:
        return self.session.request(method, f"{self.url}/__sandbox__/{name}", json=json, timeout=10)

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats").json()


# ---------------------------------------------------------------------- independent normalizer
def containers(resource: str, body: Any) -> list[Any]:
    """The row containers of a page, as the pagination rule defines them."""
    if resource in ("crashes",):
        return [body["data"] if isinstance(body, dict) else body]
    if resource in ("crash_os_versions", "affected_devices"):
        return [body["data"]]
    if resource == "crash_device_models":
        return [body]
    if resource == "crash_counts_by_date":
        return [count_map for platform in body.values() for count_map in platform.values()]
    if resource == "crash_issue_counts_by_date":
        return list(body.values())
    if resource in ("active_devices_by_date", "event_summary", "event_counts_by_date"):
        return list(body["data"]["result"].values())
    if resource == "event_counts_by_country":
        return [body["data"]["result"]]
    if resource in ("event_device_counts", *MULTIGROUP):
        return [body["result"]]
    raise KeyError(resource)


def largest_container(resource: str, body: Any) -> int:
    return max((len(c) for c in containers(resource, body)), default=0)


def _iso(ms: Any) -> str:
    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(ms))
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: str) -> str:
    day, month, year = value.split("-")
    return f"{year}-{month}-{day}"


def _snake(key: str) -> str:
    key = key.strip().replace(" ", "_")
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", key)
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return key.lower()


CRASH_FIELDS = {
    "UniqueMessageID": ("crash_id", str),
    "AppVersion": ("app_version", None),
    "Status": ("status", None),
    "OS": ("os", None),
    "Exception": ("exception", None),
    "ExceptionType": ("exception_type", None),
    "CrashCount": ("crash_count", int),
    "DevicesCount": ("device_count", int),
    "UsersCount": ("user_count", int),
    "PID": ("platform_id", str),
    "AppVersionID": ("app_version_id", str),
}
DETAIL_FIELDS = {
    "UniqueMessageID": ("crash_id", str),
    "date": ("date", _date),
    "HappenedAt": ("happened_at", _iso),
    "SessionStartTime": ("session_start_time", _iso),
    "Message": ("message", None),
    "Exception": ("exception", None),
    "IssueName": ("issue_name", None),
    "OS": ("os", None),
    "OSVersion": ("os_version", None),
    "Model": ("model", None),
    "Screen": ("screen", None),
    "DeviceID": ("device_id", str),
    "UserID": ("user_id", str),
    "NetworkStatus": ("network_status", None),
    "BatteryStatus": ("battery_status", None),
    "PID": ("platform_id", str),
    "AppVersion": ("app_version", None),
    "AppVersionID": ("app_version_id", str),
    "AppReleaseVersion": ("app_release_version", None),
    "JAnalyticVersion": ("sdk_version", None),
    "Edge": ("edge", None),
    "CustomProperties": ("custom_properties", None),
}
AFFECTED_FIELDS = {
    "DeviceID": ("device_id", str),
    "UserID": ("user_id", str),
    "Model": ("model", None),
    "OSVersion": ("os_version", None),
    "AppVersion": ("app_version", None),
    "HappendAt": ("happened_at", _iso),
    "HappenedAt": ("happened_at", _iso),
    "Date": ("date", _date),
}
METRICS = {
    "crashcount": "crash_count",
    "crashecount": "crash_count",
    "devicecount": "device_count",
    "deviceschart": "device_count",
    "usercount": "user_count",
    "userschart": "user_count",
    "issuecount": "issue_count",
    "issueschart": "issue_count",
}
ORDER = {
    "crashes": [f for f, _ in CRASH_FIELDS.values()],
    "crash_detail": [f for f, _ in DETAIL_FIELDS.values()],
    "affected_devices": ["device_id", "user_id", "model", "os_version", "app_version", "happened_at", "date"],
}


def _mapped(row: dict[str, Any], table: dict[str, tuple[str, Any]], order: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name, cast = table.get(key, (_snake(key), None))
        out[name] = cast(value) if cast else value
    return {**{k: out.pop(k) for k in order if k in out}, **out}


def _extras(row: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """The keys of ``row`` the contract does not name, snake_cased (never dropped)."""
    return {_snake(key): value for key, value in row.items() if key.strip() not in known}


def _buckets(metric_maps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    stamps: dict[str, dict[str, Any]] = {}
    for metric, count_map in metric_maps.items():
        for stamp, count in count_map.items():
            stamps.setdefault(stamp, {"bucket_start": _iso(stamp)})[METRICS[metric]] = int(count)
    fields = ("bucket_start", "crash_count", "device_count", "user_count", "issue_count")
    return [{f: rec[f] for f in fields} for rec in stamps.values()]


def normalize(resource: str, body: Any, query: dict[str, Any], crash_id: str | None = None) -> list[dict]:
    """The records of one page body, by the contract's rules."""
    if resource == "projects":
        return [
            {
                "portal_id": str(portal["zsoid"]),
                "portal_name": portal["portalName"],
                "project_id": str(project["projectId"]),
                "project_name": project["projectName"],
                "platforms": project["platforms"],
            }
            for portal in body["result"]
            for project in portal["projects"]
        ]
    if resource == "crashes":
        rows = body["data"] if isinstance(body, dict) else body
        return [_mapped(row, CRASH_FIELDS, ORDER["crashes"]) for row in rows]
    if resource == "crash_summary":

        def counts(group: dict[str, Any]) -> list[int]:
            crash = group.get("crashcount", group.get("crashecount"))
            return [int(crash), int(group["issuecount"]), int(group["devicecount"]), int(group["usercount"])]

        now, before = counts(body["crashcount"]), counts(body["precrashcount"])
        names = ["crash_count", "issue_count", "device_count", "user_count"]
        record = dict(zip(names, now, strict=True))
        record.update({f"previous_{n}": v for n, v in zip(names, before, strict=True)})
        record["crash_free_users"] = body["crashfreeusers"]
        return [{**record, **_extras(body, {"crashcount", "precrashcount", "crashfreeusers"})}]
    if resource == "crash_counts_by_date":
        return [{"platform": platform, **b} for platform, maps in body.items() for b in _buckets(maps)]
    if resource == "crash_issue_counts_by_date":
        return [{"crash_id": crash_id, **b} for b in _buckets(body)]
    if resource == "crash_detail":
        return [_mapped(body["data"], DETAIL_FIELDS, ORDER["crash_detail"])] if body["data"] else []
    if resource == "crash_os_versions":
        return [
            {
                "crash_id": crash_id,
                "os_version": r["OSVersion"],
                "crash_count": int(r["Count"]),
                **_extras(r, {"OSVersion", "Count"}),
            }
            for r in body["data"]
        ]
    if resource == "crash_device_models":
        return [
            {
                "crash_id": crash_id,
                "model": r["model"],
                "crash_count": int(r["count"]),
                **_extras(r, {"model", "count"}),
            }
            for r in body
        ]
    if resource == "affected_devices":
        return [_mapped(row, AFFECTED_FIELDS, ORDER["affected_devices"]) for row in body["data"]]
    if resource == "active_devices_by_date":
        return [
            {
                "platform": p,
                "bucket_start": _iso(r["DATE"]),
                "active_devices": int(r["ActiveDevices COUNT"]),
                **_extras(r, {"DATE", "ActiveDevices COUNT"}),
            }
            for p, rows in body["data"]["result"].items()
            for r in rows
        ]
    if resource == "event_summary":
        records = []
        for platform, rows in body["data"]["result"].items():
            for row in rows:
                clean = {k.strip(): v for k, v in row.items()}
                records.append(
                    {
                        "platform": platform,
                        "event_group": clean["GROUP"],
                        "event_name": clean.get("EVENTS NAME", clean.get("EVENT NAME")),
                        "event_count": int(clean.get("EVENTS COUNT", clean.get("EVENT COUNT"))),
                        **_extras(row, {"GROUP", "EVENTS NAME", "EVENT NAME", "EVENTS COUNT", "EVENT COUNT"}),
                    }
                )
        return records
    if resource == "event_counts_by_date":
        return [
            {
                "platform": p,
                "bucket_start": _iso(r["DATE"]),
                "event_group": r["GROUP"],
                "event_name": r["EVENT NAME"],
                "event_count": int(r["EVENT COUNT"]),
                **_extras(r, {"DATE", "GROUP", "EVENT NAME", "EVENT COUNT"}),
            }
            for p, rows in body["data"]["result"].items()
            for r in rows
        ]
    if resource == "event_counts_by_country":
        return [{"country": k, "event_count": int(v)} for k, v in body["data"]["result"].items()]
    if resource == "event_device_counts":
        records = []
        for key, value in body["result"].items():
            name, _, group = key.rpartition("(")
            records.append(
                {
                    "window_start": _date(query["startdate"]),
                    "window_end": _date(query["enddate"]),
                    "event_name": name,
                    "event_group": group.rstrip(")"),
                    "device_count": int(value),
                }
            )
        return records
    if resource in MULTIGROUP:
        default = {"active_devices": "date,platform", "screens": "date,screen", "api_stats": "date,api"}
        group = (query.get("group") or default[resource]).split(",")
        records = []

        def walk(node: Any, path: list[str]) -> None:
            if len(path) == len(group):
                record = {g: (_date(v) if g == "date" else v) for g, v in zip(group, path, strict=True)}
                record["count"] = int(node)
                records.append(record)
                return
            for key, child in node.items():
                walk(child, [*path, key])

        walk(body["result"], [])
        return records
    raise KeyError(resource)


def extract(
    client: SandboxClient,
    resource: str,
    params: dict[str, Any] | None = None,
    crash_id: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Every record of a request: page through and normalize each page."""
    records = []
    for body in client.pages(resource, params, crash_id, limit=limit):
        records.extend(normalize(resource, body, params or {}, crash_id))
    return records


# ---------------------------------------------------------------------- Zoho Desk
DESK = "/api/v1"
DESK_COUNT_SUFFIX = "Count"
DESK_TIMES = {"dueDate", "responseDueDate"}


def desk_get(
    client: SandboxClient,
    path: str,
    params: dict[str, Any] | None = None,
    org_id: str | None = "default",
    token: str | None = None,
) -> requests.Response:
    """A Desk call with the client's token and (by default) the sandbox's orgId header."""
    headers = {"Authorization": f"Zoho-oauthtoken {token or client.token}"}
    if org_id is not None:
        headers["orgId"] = client.sandbox.desk_org_id if org_id == "default" else org_id
    return client.session.get(f"{client.url}{DESK}{path}", params=params, headers=headers, timeout=30)


def desk_tidy(row: dict[str, Any]) -> dict[str, Any]:
    """A Desk row as a tidy record, by the contract's rules (written from the contract, not the sandbox)."""
    record: dict[str, Any] = {}
    for key, value in row.items():
        if value is not None and (key == "id" or key.endswith("Id")):
            value = str(value)
        elif value is not None and key.endswith(DESK_COUNT_SUFFIX):
            value = int(value)
        elif value is not None and (key.endswith("Time") or key in DESK_TIMES):
            stamp = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
            value = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        record[_snake(key)] = value
    return record


def desk_search_all(client: SandboxClient, resource: str, modified_from: str, modified_to: str) -> list[dict]:
    """
    Every tidy record of ``[modified_from, modified_to)`` through the search endpoint, paging ``from`` by 100.

    Bounds are ``YYYY-MM-DDTHH:MM:SS.sssZ``. Works whether the sandbox's range end is inclusive or not: rows
    at ``modified_to`` are dropped here.
    """
    records: list[dict[str, Any]] = []
    start = 0
    while True:
        params = {"modifiedTimeRange": f"{modified_from},{modified_to}", "sortBy": "modifiedTime"}
        response = desk_get(client, f"/{resource}/search", {**params, "from": start, "limit": 100})
        if response.status_code == 204:
            assert response.content == b""
            break
        assert response.status_code == 200, response.text
        rows = response.json()["data"]
        records.extend(desk_tidy(row) for row in rows if row["modifiedTime"] < modified_to)
        start += len(rows)
        assert start < 10_000, "paging does not end"
    return records
