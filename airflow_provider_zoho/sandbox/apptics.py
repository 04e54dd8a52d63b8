"""
Renders the sandbox's data as the Apptics REST API sends it, quirks included, one page at a time.

The shapes follow docs/apptics-resources.md ("envelope the API sends" and the sample bodies): string counts
where the API sends strings, numeric ids, epoch-ms bucket keys and ``DATE``, lowercase platform keys with
the Android ``*chart`` aliases in ``/crash/countbydate``, the misspelt ``crashecount``, the trailing-space
key ``"EVENTS NAME "``, ``HappendAt``, ``dd-MM-yyyy`` dates and the ``userParams`` echo. Paging applies
``offset``/``limit`` to every row container of an answer (a list, each platform's list, each count map, the
outer object of a multigroup answer), as the "Pagination rule" there says.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.sandbox.data import EXTRA_FIELD, PLATFORM_IDS, SDK_VERSIONS
from airflow_provider_zoho.sandbox.model import (
    MULTIGROUP_KINDS,
    AffectedDevice,
    Bucket,
    CrashRow,
    app_version_id,
)
from airflow_provider_zoho.sandbox.query import format_date

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow_provider_zoho.sandbox.model import AppticsModel, Dataset, DeviceAttribute
    from airflow_provider_zoho.sandbox.query import Query

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STANDARD_METRICS = ("crashcount", "devicecount", "usercount", "issuecount")
_ANDROID_METRICS = ("crashcount", "deviceschart", "userschart", "issueschart")
_STRING_LEAF_VALUES = frozenset({"Android", "Tablet"})
_PAST_EVERY_ROW = 1 << 62


def _platform_rows(body: Any) -> list[dict[str, Any]]:
    return [row for rows in body["data"]["result"].values() for row in rows]


#: Where the rows of a body are, for the resources the ``extra_field`` quirk applies to.
_QUIRK_ROWS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "crashes": lambda body: body["data"],
    "crash_summary": lambda body: [body],
    "crash_detail": lambda body: [body["data"]] if body["data"] else [],
    "crash_os_versions": lambda body: body["data"],
    "crash_device_models": lambda body: body,
    "affected_devices": lambda body: body["data"],
    "active_devices_by_date": _platform_rows,
    "event_summary": _platform_rows,
    "event_counts_by_date": _platform_rows,
}


def _ms_date(time_ms: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(milliseconds=time_ms)


def _echo_date(day: dt.date) -> str:
    """``12-Mar-2022``, the date format of the ``userParams`` echo."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year:04d}"


class AppticsRenderer:
    """
    Turns validated queries into API bodies (JSON-ready Python values).

    :param model: the deterministic data model to render.
    """

    def __init__(self, model: AppticsModel) -> None:
        self.model = model
        self._renderers: dict[str, Callable[[Query, Dataset, int], Any]] = {
            "projects": self._projects,
            "crashes": self._crashes,
            "crash_summary": self._crash_summary,
            "crash_counts_by_date": self._crash_counts_by_date,
            "crash_issue_counts_by_date": self._crash_issue_counts_by_date,
            "crash_detail": self._crash_detail,
            "crash_os_versions": self._crash_os_versions,
            "crash_device_models": self._crash_device_models,
            "affected_devices": self._affected_devices,
            "active_devices_by_date": self._active_devices_by_date,
            "active_devices": self._multigroup,
            "screens": self._multigroup,
            "api_stats": self._multigroup,
            "event_summary": self._event_summary,
            "event_counts_by_date": self._event_counts_by_date,
            "event_counts_by_country": self._event_counts_by_country,
            "event_device_counts": self._event_device_counts,
        }

    def render(self, query: Query, dataset: Dataset) -> Any:
        """
        The body of one page of ``query``, with the quirks in force for its window.

        :param query: the validated request.
        :param dataset: overrides in force for this resource.
        :raises AppticsRequestError: when the request names a crash issue that does not exist.
        """
        quirks = dataset.quirks(query)
        offset = 0 if dataset.ignore_offset else query.offset
        if "empty" in quirks:
            offset = _PAST_EVERY_ROW  # every row container's page is empty
        body = self._renderers[query.spec.name](query, dataset, offset)
        if "extra_field" in quirks:
            value = self.model.release_channel(query)
            for row in _QUIRK_ROWS[query.spec.name](body):
                row[EXTRA_FIELD] = value
        return body

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _page(items: Sequence[Any], query: Query, offset: int) -> Sequence[Any]:
        return items[offset : offset + query.limit]

    @staticmethod
    def _lazy_range(total: int, query: Query, offset: int) -> range:
        return range(min(offset, total), min(offset + query.limit, total))

    @staticmethod
    def _crash_row(row: CrashRow) -> dict[str, Any]:
        issue = row.issue
        return {
            "AppVersion": issue.app_version,
            "Status": issue.status,
            "UniqueMessageID": issue.crash_id,
            "AppVersionID": app_version_id(issue.platform, issue.app_version),
            "PID": PLATFORM_IDS[issue.platform],
            "ExceptionType": issue.exception_type,
            "OS": issue.platform,
            "CrashCount": str(row.crashes),
            "UsersCount": str(row.users),
            "DevicesCount": str(row.devices),
            "Exception": issue.exception,
        }

    @staticmethod
    def _metric_maps(buckets: Sequence[Bucket], keys: tuple[str, ...], as_string: bool) -> dict[str, Any]:
        cast: Callable[[int], Any] = str if as_string else int
        maps: dict[str, dict[str, Any]] = {key: {} for key in keys}
        crash_map, device_map, user_map, issue_map = (maps[key] for key in keys)
        for bucket in buckets:
            stamp = str(bucket.start_ms)
            crash_map[stamp] = cast(bucket.counts.crashes)
            device_map[stamp] = cast(bucket.counts.devices)
            user_map[stamp] = cast(bucket.counts.users)
            issue_map[stamp] = cast(bucket.counts.issues)
        return maps

    # ------------------------------------------------------------------ resources
    def _projects(self, query: Query, dataset: Dataset, offset: int) -> Any:
        portals: dict[str, dict[str, Any]] = {}
        for project in self.model.projects():
            portal = portals.setdefault(
                project.portal_id,
                {"zsoid": project.portal_id, "portalName": project.portal_name, "projects": []},
            )
            portal["projects"].append(
                {
                    "projectId": project.project_id,
                    "projectName": project.project_name,
                    "platforms": list(project.platforms),
                }
            )
        return {"result": list(portals.values()), "status": 200}

    def _crashes(self, query: Query, dataset: Dataset, offset: int) -> Any:
        if dataset.rows is not None:
            rows = [
                self.model.crash_override_row(i, query) for i in self._lazy_range(dataset.rows, query, offset)
            ]
        else:
            rows = list(self._page(self.model.crash_list(query), query, offset))
        return {"data": [self._crash_row(row) for row in rows]}

    def _crash_summary(self, query: Query, dataset: Dataset, offset: int) -> Any:
        summary = self.model.crash_summary(query, "integer_rate" in dataset.quirks(query))
        previous, current = summary.previous, summary.current
        return {
            "precrashcount": {
                "usercount": str(previous.users),
                "issuecount": str(previous.issues),
                "crashecount": str(previous.crashes),
                "devicecount": str(previous.devices),
            },
            "crashcount": {
                "usercount": current.users,
                "issuecount": current.issues,
                "crashecount": current.crashes,
                "devicecount": current.devices,
            },
            "crashfreeusers": summary.crash_free_users,
        }

    def _crash_counts_by_date(self, query: Query, dataset: Dataset, offset: int) -> Any:
        body = {}
        for platform in query.platforms:
            buckets = self._page(self.model.crash_buckets(query, platform), query, offset)
            android = platform == "Android"
            body[platform.lower()] = self._metric_maps(
                buckets, _ANDROID_METRICS if android else _STANDARD_METRICS, as_string=android
            )
        return body

    def _crash_issue_counts_by_date(self, query: Query, dataset: Dataset, offset: int) -> Any:
        issue = self.model.issue_for(query, dataset)
        if issue is None:  # pragma: no cover - this resource takes no dataset override
            return {key: {} for key in _STANDARD_METRICS}
        buckets = self._page(self.model.issue_buckets(query, issue), query, offset)
        return self._metric_maps(buckets, _STANDARD_METRICS, as_string=False)

    def _crash_detail(self, query: Query, dataset: Dataset, offset: int) -> Any:
        issue = self.model.issue_for(query, dataset)
        detail = self.model.crash_detail(query, issue) if issue is not None else None
        if detail is None or "empty" in dataset.quirks(query):
            return {"data": {}}
        issue = detail.issue
        device = detail.device
        return {
            "data": {
                "date": format_date(_ms_date(detail.time_ms)),
                "Message": detail.message,
                "OS": issue.platform,
                "Screen": issue.screen,
                "DeviceID": device.device_id,
                "NetworkStatus": detail.network_status,
                "PID": PLATFORM_IDS[issue.platform],
                "SessionStartTime": detail.session_start_ms,
                "AppVersionID": app_version_id(issue.platform, issue.app_version),
                "Exception": issue.exception,
                "AppVersion": issue.app_version,
                "BatteryStatus": detail.battery_status,
                "UserID": device.user_id,
                "JAnalyticVersion": SDK_VERSIONS[issue.platform],
                "IssueName": f"{issue.exception_type} in {issue.screen}",
                "Model": device.model,
                "OSVersion": device.os_version,
                "UniqueMessageID": issue.crash_id,
                "Edge": detail.edge,
                "AppReleaseVersion": issue.app_version.replace(".", ""),
                "HappenedAt": detail.time_ms,
                "CustomProperties": dict(detail.custom_properties),
            }
        }

    def _crashes_by_device(
        self, query: Query, dataset: Dataset, offset: int, attribute: DeviceAttribute
    ) -> list[tuple[str, int]]:
        """One page of an issue's crashes per OS version or device model (or of a dataset override)."""
        issue = self.model.issue_for(query, dataset)
        if dataset.rows is not None or issue is None:
            return [
                self.model.device_override_row(i, query, attribute)
                for i in self._lazy_range(dataset.rows or 0, query, offset)
            ]
        return list(self._page(self.model.crashes_by_device(query, issue, attribute), query, offset))

    def _crash_os_versions(self, query: Query, dataset: Dataset, offset: int) -> Any:
        rows = self._crashes_by_device(query, dataset, offset, "os_version")
        return {
            "data": [{"OSVersion": version, "Count": str(count)} for version, count in rows],
            "status": "success",
        }

    def _crash_device_models(self, query: Query, dataset: Dataset, offset: int) -> Any:
        rows = self._crashes_by_device(query, dataset, offset, "model")
        return [{"model": model, "count": count} for model, count in rows]

    @staticmethod
    def _affected_row(row: AffectedDevice) -> dict[str, Any]:
        return {
            "AppVersion": row.app_version,
            "UserID": row.device.user_id,
            "DeviceID": row.device.device_id,
            "Model": row.device.model,
            "OSVersion": row.device.os_version,
            "HappendAt": row.time_ms,
            "Date": format_date(_ms_date(row.time_ms)),
        }

    def _affected_devices(self, query: Query, dataset: Dataset, offset: int) -> Any:
        if dataset.rows is not None:
            rows = [
                self.model.affected_override_row(i, dataset.rows, query)
                for i in self._lazy_range(dataset.rows, query, offset)
            ]
        else:
            rows = list(self._page(self.model.affected_devices(query), query, offset))
        return {"data": [self._affected_row(row) for row in rows], "status": "success"}

    def _active_devices_by_date(self, query: Query, dataset: Dataset, offset: int) -> Any:
        result = {
            platform: [
                {"DATE": stamp, "ActiveDevices COUNT": count}
                for stamp, count in self._page(self.model.active_by_date(query, platform), query, offset)
            ]
            for platform in query.platforms
        }
        return {"data": {"result": result}, "status": 200}

    def _multigroup(self, query: Query, dataset: Dataset, offset: int) -> Any:
        cells = self.model.multigroup(MULTIGROUP_KINDS[query.spec.name], query)
        outer_keys = list(dict.fromkeys(values[0] for values, _ in cells))
        wanted = set(self._page(outer_keys, query, offset))
        nested: dict[str, Any] = {}
        for values, count in cells:
            if values[0] not in wanted:
                continue
            node = nested
            for value in values[:-1]:
                node = node.setdefault(value, {})
            node[values[-1]] = str(count) if _STRING_LEAF_VALUES.intersection(values) else count
        return {"result": nested, "status": 200}

    def _event_summary(self, query: Query, dataset: Dataset, offset: int) -> Any:
        result = {
            platform: [
                {"GROUP": group, "EVENTS NAME ": name, "EVENTS COUNT": count}
                for group, name, count in self._page(self.model.event_summary(query, platform), query, offset)
            ]
            for platform in query.platforms
        }
        return {"data": {"result": result}, "status": 200}

    def _event_counts_by_date(self, query: Query, dataset: Dataset, offset: int) -> Any:
        result = {
            platform: [
                {"EVENT COUNT": count, "GROUP": group, "DATE": stamp, "EVENT NAME": name}
                for stamp, group, name, count in self._page(
                    self.model.event_by_date(query, platform), query, offset
                )
            ]
            for platform in query.platforms
        }
        return {"data": {"result": result}, "status": 200}

    def _event_counts_by_country(self, query: Query, dataset: Dataset, offset: int) -> Any:
        countries = self._page(self.model.event_countries(query), query, offset)
        return {
            "data": {
                "result": dict(countries),
                "userParams": {
                    "StartDate": _echo_date(query.start),
                    "Platform": list(query.platforms),
                    "EndDate": _echo_date(query.end),
                },
            },
            "status": 200,
        }

    def _event_device_counts(self, query: Query, dataset: Dataset, offset: int) -> Any:
        rows = self._page(self.model.event_devices(query), query, offset)
        return {"result": {f"{name}({group})": count for group, name, count in rows}, "status": 200}
