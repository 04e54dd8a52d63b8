"""``ZohoDeskToStorageOperator``: one idempotent partition per Zoho Desk resource and window."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.operators.storage import BaseZohoToStorageOperator, Extraction
from airflow_provider_zoho.windows import instant_keys, interval_instants, parse_instant, preceding_windows

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_zoho.hooks.desk import ZohoDeskHook

#: The dataset folder of a resource: ``desk_<resource>``.
FOLDER_PREFIX = "desk_"


class ZohoDeskToStorageOperator(BaseZohoToStorageOperator):
    """
    Extract one Zoho Desk resource for the run's window into object storage.

    ``tickets`` and ``contacts`` are the records modified in the half-open window ``[start, end)`` of the
    run's data interval (every one exactly once, however many share a window or an instant; see
    ``ZohoDeskHook``); ``departments`` and ``agents`` are full snapshots, filed under the run's window.
    Records stream page by page into
    ``<destination>/desk_<resource>/start=<...>/end=<...>/data.<ext>[.gz]``, then ``_manifest.json`` is
    written as the commit marker. The keys are inclusive days (``start=2026-03-07/end=2026-03-07``) when
    the window is whole UTC days, else the window's bounds (``start=2026-03-07T230000Z/
    end=2026-03-08T000000Z``). A failed or killed run leaves the previous partition (or nothing) in place;
    re-running a window replaces its partition. The task returns ``{"path", "records", "manifest"}`` (never
    data) and records an asset event on ``<destination>/desk_<resource>``.

    A ticket modified in several windows is in each of their partitions: every record carries ``id`` and
    ``modified_time``, so the latest ``modified_time`` per ``id`` wins when the partitions are read
    together.

    :param resource: ``tickets``, ``contacts``, ``departments`` or ``agents`` (templated).
    :param destination: base URI: ``file:///data/zoho``, ``s3://bucket/prefix``... (templated).
    :param zoho_conn_id: the ``zoho`` connection, with ``desk_org_id`` (templated).
    :param dest_conn_id: the connection of the destination's filesystem, e.g. an AWS connection for
        ``s3://`` (templated).
    :param modified_from: the window's first instant, inclusive: an aware datetime or an ISO-8601 string
        with a zone (templated). Default: the start of the run's data interval.
    :param modified_to: the window's end, exclusive (templated). Default: the end of the data interval.
    :param lookback: a ``timedelta``, a whole number of windows: also re-extract the windows of the same
        length that cover this period before the window, each into its own partition, so tickets Desk's
        search indexed late refresh their window in place (``tickets`` and ``contacts`` only).
    :param file_format: ``jsonl`` (default), ``csv`` or ``parquet`` (needs the ``parquet`` extra).
    :param compression: ``None`` or ``gzip`` (gzip stream for jsonl/csv; parquet's own codec for parquet).
    """

    template_fields: Sequence[str] = (
        "resource",
        "destination",
        "zoho_conn_id",
        "dest_conn_id",
        "modified_from",
        "modified_to",
        "file_format",
        "compression",
    )

    def __init__(
        self,
        *,
        resource: str,
        destination: str,
        zoho_conn_id: str = "zoho_default",
        dest_conn_id: str | None = None,
        modified_from: Any = None,
        modified_to: Any = None,
        lookback: dt.timedelta | None = None,
        file_format: str = "jsonl",
        compression: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            destination=destination,
            zoho_conn_id=zoho_conn_id,
            dest_conn_id=dest_conn_id,
            file_format=file_format,
            compression=compression,
            folder_template=f"{FOLDER_PREFIX}{resource}" if isinstance(resource, str) else resource,
            **kwargs,
        )
        self.resource = resource
        self.modified_from = modified_from
        self.modified_to = modified_to
        self.lookback = lookback

    @property
    def folder(self) -> str:
        return f"{FOLDER_PREFIX}{self.resource}"

    @cached_property
    def hook(self) -> ZohoDeskHook:
        from airflow_provider_zoho.hooks.desk import ZohoDeskHook  # keeps DAG-file imports cheap

        return ZohoDeskHook(zoho_conn_id=self.zoho_conn_id)

    def manifest_fields(self) -> dict[str, Any]:
        return {"resource": self.resource}

    def lineage_inputs(self) -> list[tuple[str, str]]:
        """``zoho-desk://<data center>/<desk_org_id>``, ``<resource>``."""
        settings = self.hook.settings
        return [(f"zoho-desk://{settings.data_center}/{settings.desk_org_id}", self.resource)]

    def extractions(self, context: Context) -> list[Extraction]:
        from airflow_provider_zoho.hooks.desk_resources import resource_named

        spec = resource_named(self.resource)
        start, end = self._window(context)
        if self.lookback and not spec.incremental:
            raise ZohoConfigError(
                f"lookback does not apply to {self.resource}: a snapshot has no history, so re-extracting "
                "earlier windows would file today's rows under them. Leave lookback unset."
            )
        windows = [(start, end), *preceding_windows(start, end, self.lookback)]
        keys = [instant_keys(first, last) for first, last in windows]  # checked before any request
        # iter_records checks its arguments and desk_org_id when called, before the stream's first request.
        return [
            Extraction(
                window=window_keys,
                records=self.hook.iter_records(self.resource, first, last),
                columns=spec.columns,
            )
            for window_keys, (first, last) in zip(keys, windows, strict=True)
        ]

    def _window(self, context: Context) -> tuple[dt.datetime, dt.datetime]:
        """``[modified_from, modified_to)``: explicit bounds win, the data interval fills the others."""
        given = {"modified_from": self.modified_from, "modified_to": self.modified_to}
        bounds = {name: parse_instant(value, name) for name, value in given.items() if value}
        if len(bounds) < 2:
            start, end = interval_instants(context)
            bounds = {"modified_from": start, "modified_to": end, **bounds}
        start, end = bounds["modified_from"], bounds["modified_to"]
        if end <= start:
            raise ZohoConfigError(
                f"modified_to ({end.isoformat()}) must be after modified_from ({start.isoformat()}): the "
                "window [modified_from, modified_to) is half-open."
            )
        return start, end
