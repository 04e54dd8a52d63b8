"""
The test oracle: the normalized records a correct client must produce for a request.

Records are built straight from the data model (never by parsing a rendered API body), with the field
names, field order and types of the "Records" table in docs/apptics-resources.md: ids as strings, counts as
integers, epoch milliseconds as ``YYYY-MM-DDTHH:MM:SSZ``, ``dd-MM-yyyy`` dates as ``YYYY-MM-DD``. They cover
every page of the request (its ``offset`` is ignored) in the order a client reading pages of ``limit``
entries from offset 0 meets them: page by page, and within a page container by container.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.sandbox.data import PLATFORM_IDS, SDK_VERSIONS
from airflow_provider_zoho.sandbox.model import MULTIGROUP_KINDS, app_version_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from airflow_provider_zoho.sandbox.model import (
        AffectedDevice,
        AppticsModel,
        Bucket,
        CrashRow,
        Dataset,
        DeviceAttribute,
        Issue,
    )
    from airflow_provider_zoho.sandbox.query import Query

_EPOCH = dt.datetime(1970, 1, 1)


def iso_timestamp(time_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    return (_EPOCH + dt.timedelta(milliseconds=time_ms)).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date_of(time_ms: int) -> str:
    return (_EPOCH + dt.timedelta(milliseconds=time_ms)).date().isoformat()


def _page_major(containers: Sequence[Sequence[Any]], limit: int) -> Iterator[tuple[int, Any]]:
    """``(container index, item)`` in the order paging by ``limit`` delivers them."""
    longest = max((len(container) for container in containers), default=0)
    for start in range(0, longest, limit):
        for index, container in enumerate(containers):
            for item in container[start : start + limit]:
                yield index, item


class ExpectedRecords:
    """
    Computes the normalized records of any Apptics request from the data model.

    :param model: the deterministic data model shared with the API renderer.
    """

    def __init__(self, model: AppticsModel) -> None:
        self.model = model
        self._builders: dict[str, Callable[[Query, Dataset], Iterator[dict[str, Any]]]] = {
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

    def iter_records(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        """
        Stream the records of ``query`` (all pages).

        Quirks in force for the window show as a client sees them: ``empty`` gives no records,
        ``extra_field`` appends ``release_channel`` to every record (the API's undeclared ``ReleaseChannel``,
        tidied), ``integer_rate`` keeps the whole number the API sent.

        :param query: the validated request; its ``offset`` is ignored.
        :param dataset: overrides in force for this resource (``ignore_offset`` does not change the truth).
        :raises AppticsRequestError: when the request names a crash issue that does not exist.
        """
        quirks = dataset.quirks(query)
        if "empty" in quirks:
            return iter(())
        records = self._builders[query.spec.name](query, dataset)
        if "extra_field" in quirks:
            value = self.model.release_channel(query)
            return ({**record, "release_channel": value} for record in records)
        return records

    def records(self, query: Query, dataset: Dataset) -> list[dict[str, Any]]:
        return list(self.iter_records(query, dataset))

    # ------------------------------------------------------------------ resources
    def _projects(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        for project in self.model.projects():
            yield {
                "portal_id": project.portal_id,
                "portal_name": project.portal_name,
                "project_id": project.project_id,
                "project_name": project.project_name,
                "platforms": list(project.platforms),
            }

    @staticmethod
    def _crash_record(row: CrashRow) -> dict[str, Any]:
        issue = row.issue
        return {
            "crash_id": issue.crash_id,
            "app_version": issue.app_version,
            "status": issue.status,
            "os": issue.platform,
            "exception": issue.exception,
            "exception_type": issue.exception_type,
            "crash_count": row.crashes,
            "device_count": row.devices,
            "user_count": row.users,
            "platform_id": str(PLATFORM_IDS[issue.platform]),
            "app_version_id": str(app_version_id(issue.platform, issue.app_version)),
        }

    def _crashes(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        if dataset.rows is not None:
            for index in range(dataset.rows):
                yield self._crash_record(self.model.crash_override_row(index, query))
            return
        for row in self.model.crash_list(query):
            yield self._crash_record(row)

    def _crash_summary(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        summary = self.model.crash_summary(query, "integer_rate" in dataset.quirks(query))
        yield {
            "crash_count": summary.current.crashes,
            "issue_count": summary.current.issues,
            "device_count": summary.current.devices,
            "user_count": summary.current.users,
            "previous_crash_count": summary.previous.crashes,
            "previous_issue_count": summary.previous.issues,
            "previous_device_count": summary.previous.devices,
            "previous_user_count": summary.previous.users,
            "crash_free_users": summary.crash_free_users,
        }

    @staticmethod
    def _bucket_fields(bucket: Bucket) -> dict[str, Any]:
        return {
            "bucket_start": iso_timestamp(bucket.start_ms),
            "crash_count": bucket.counts.crashes,
            "device_count": bucket.counts.devices,
            "user_count": bucket.counts.users,
            "issue_count": bucket.counts.issues,
        }

    def _crash_counts_by_date(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        containers = [self.model.crash_buckets(query, platform) for platform in query.platforms]
        for index, bucket in _page_major(containers, query.limit):
            yield {"platform": query.platforms[index].lower(), **self._bucket_fields(bucket)}

    def _issue(self, query: Query, dataset: Dataset) -> Issue | None:
        return self.model.issue_for(query, dataset)

    def _crash_issue_counts_by_date(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        issue = self._issue(query, dataset)
        if issue is None:  # pragma: no cover - this resource takes no dataset override
            return
        for bucket in self.model.issue_buckets(query, issue):
            yield {"crash_id": query.crash_id, **self._bucket_fields(bucket)}

    def _crash_detail(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        issue = self._issue(query, dataset)
        detail = self.model.crash_detail(query, issue) if issue is not None else None
        if detail is None or issue is None:
            return
        yield {
            "crash_id": issue.crash_id,
            "date": iso_date_of(detail.time_ms),
            "happened_at": iso_timestamp(detail.time_ms),
            "session_start_time": iso_timestamp(detail.session_start_ms),
            "message": detail.message,
            "exception": issue.exception,
            "issue_name": f"{issue.exception_type} in {issue.screen}",
            "os": issue.platform,
            "os_version": detail.device.os_version,
            "model": detail.device.model,
            "screen": issue.screen,
            "device_id": detail.device.device_id,
            "user_id": str(detail.device.user_id),
            "network_status": detail.network_status,
            "battery_status": detail.battery_status,
            "platform_id": str(PLATFORM_IDS[issue.platform]),
            "app_version": issue.app_version,
            "app_version_id": str(app_version_id(issue.platform, issue.app_version)),
            "app_release_version": issue.app_version.replace(".", ""),
            "sdk_version": SDK_VERSIONS[issue.platform],
            "edge": detail.edge,
            "custom_properties": dict(detail.custom_properties),
        }

    def _crashes_by_device(
        self, query: Query, dataset: Dataset, attribute: DeviceAttribute
    ) -> Iterator[dict[str, Any]]:
        issue = self._issue(query, dataset)
        if issue is None:
            rows: Iterator[tuple[str, int]] = (
                self.model.device_override_row(i, query, attribute) for i in range(dataset.rows or 0)
            )
        else:
            rows = iter(self.model.crashes_by_device(query, issue, attribute))
        for value, count in rows:
            yield {"crash_id": query.crash_id, attribute: value, "crash_count": count}

    def _crash_os_versions(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        return self._crashes_by_device(query, dataset, "os_version")

    def _crash_device_models(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        return self._crashes_by_device(query, dataset, "model")

    def _affected_devices(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        rows: Iterator[AffectedDevice]
        if dataset.rows is not None:
            total = dataset.rows
            rows = (self.model.affected_override_row(i, total, query) for i in range(total))
        else:
            rows = iter(self.model.affected_devices(query))
        for row in rows:
            yield {
                "device_id": row.device.device_id,
                "user_id": str(row.device.user_id),
                "model": row.device.model,
                "os_version": row.device.os_version,
                "app_version": row.app_version,
                "happened_at": iso_timestamp(row.time_ms),
                "date": iso_date_of(row.time_ms),
            }

    def _active_devices_by_date(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        containers = [self.model.active_by_date(query, platform) for platform in query.platforms]
        for index, (stamp, count) in _page_major(containers, query.limit):
            yield {
                "platform": query.platforms[index],
                "bucket_start": iso_timestamp(stamp),
                "active_devices": count,
            }

    def _multigroup(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        for values, count in self.model.multigroup(MULTIGROUP_KINDS[query.spec.name], query):
            record: dict[str, Any] = {}
            for entity, value in zip(query.group, values, strict=True):
                if entity == "date":
                    day, month, year = value.split("-")
                    value = f"{year}-{month}-{day}"
                record[entity] = value
            record["count"] = count
            yield record

    def _event_summary(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        containers = [self.model.event_summary(query, platform) for platform in query.platforms]
        for index, (group, name, count) in _page_major(containers, query.limit):
            yield {
                "platform": query.platforms[index],
                "event_group": group,
                "event_name": name,
                "event_count": count,
            }

    def _event_counts_by_date(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        containers = [self.model.event_by_date(query, platform) for platform in query.platforms]
        for index, (stamp, group, name, count) in _page_major(containers, query.limit):
            yield {
                "platform": query.platforms[index],
                "bucket_start": iso_timestamp(stamp),
                "event_group": group,
                "event_name": name,
                "event_count": count,
            }

    def _event_counts_by_country(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        for country, count in self.model.event_countries(query):
            yield {"country": country, "event_count": count}

    def _event_device_counts(self, query: Query, dataset: Dataset) -> Iterator[dict[str, Any]]:
        start, end = query.start.isoformat(), query.end.isoformat()
        for group, name, count in self.model.event_devices(query):
            yield {
                "window_start": start,
                "window_end": end,
                "event_name": name,
                "event_group": group,
                "device_count": count,
            }
