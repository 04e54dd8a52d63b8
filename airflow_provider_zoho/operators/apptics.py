"""``AppticsToStorageOperator``: one idempotent partition per Apptics resource and window."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow.providers.common.compat.sdk import Asset, AssetAlias, BaseOperator, ObjectStoragePath

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.partitions import partition_dir, stage_partition, validate_format
from airflow_provider_zoho.windows import lookback_windows, resolve_window

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_zoho.hooks.apptics import AppticsHook
    from airflow_provider_zoho.partitions import PartitionResult


class AppticsToStorageOperator(BaseOperator):
    """
    Extract one Zoho Apptics resource for a window of days into object storage.

    Records stream page by page into
    ``<destination>/<resource>/start=<YYYY-MM-DD>/end=<YYYY-MM-DD>/data.<ext>[.gz]``, then
    ``_manifest.json`` is written as the commit marker. A failed or killed run leaves the previous
    partition (or nothing) in place, and re-running a window replaces its partition; identical API data
    gives a byte-identical data file. The task returns ``{"path", "records", "manifest"}`` (never data)
    and records an asset event on ``<destination>/<resource>``.

    :param resource: the Apptics resource, a name of ``AppticsHook.RESOURCES`` (templated).
    :param destination: base URI: ``file:///data/zoho``, ``s3://bucket/prefix``... (templated).
    :param zoho_conn_id: the ``zoho`` connection (templated).
    :param dest_conn_id: the connection of the destination's filesystem, e.g. an AWS connection for
        ``s3://`` (templated).
    :param window_start: first day to extract, inclusive: a date or ``YYYY-MM-DD`` (templated). Default:
        the first whole day of the run's data interval.
    :param window_end: last day to extract, inclusive (templated). Default: the last whole day of the data
        interval; for an empty interval (Airflow 3's cron default) the window is the day before the
        logical date.
    :param lookback_days: also re-extract each of the N days before the window into its own one-day
        partition, so late-arriving data refreshes those days in place.
    :param platforms: at most 5 platforms (``iOS``, ``Android``...), list or comma string (templated).
    :param app_versions: app versions to filter on (templated).
    :param mode: ``0`` development or ``1`` production data (templated).
    :param api_params: extra query parameters, e.g. ``{"crash_id": "...", "group": "date,country"}``
        (templated).
    :param file_format: ``jsonl`` (default), ``csv`` or ``parquet`` (needs the ``parquet`` extra).
    :param compression: ``None`` or ``gzip`` (gzip stream for jsonl/csv; parquet's own codec for parquet).
    """

    template_fields: Sequence[str] = (
        "resource",
        "destination",
        "zoho_conn_id",
        "dest_conn_id",
        "window_start",
        "window_end",
        "platforms",
        "app_versions",
        "mode",
        "api_params",
        "file_format",
        "compression",
    )
    template_fields_renderers = {"api_params": "json"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        resource: str,
        destination: str,
        zoho_conn_id: str = "zoho_default",
        dest_conn_id: str | None = None,
        window_start: Any = None,
        window_end: Any = None,
        lookback_days: int = 0,
        platforms: Sequence[str] | str | None = None,
        app_versions: Sequence[str] | str | None = None,
        mode: int | str | None = None,
        api_params: dict[str, Any] | None = None,
        file_format: str = "jsonl",
        compression: str | None = None,
        **kwargs: Any,
    ) -> None:
        outlets = list(kwargs.pop("outlets", None) or [])
        if not any(_is_extraction_alias(outlet) for outlet in outlets):  # partial() may have declared one
            outlets.extend(_extraction_outlets(destination, resource))
        super().__init__(outlets=outlets, **kwargs)
        self.resource = resource
        self.destination = destination
        self.zoho_conn_id = zoho_conn_id
        self.dest_conn_id = dest_conn_id
        self.window_start = window_start
        self.window_end = window_end
        self.lookback_days = lookback_days
        self.platforms = platforms
        self.app_versions = app_versions
        self.mode = mode
        self.api_params = api_params
        self.file_format = file_format
        self.compression = compression

    @classmethod
    def partial(cls, **kwargs: Any):
        """
        Map the operator (e.g. ``.partial(...).expand(resource=[...])``), declaring its assets up front.

        Mapped arguments are unknown when the DAG is parsed, so the outlets go through an ``AssetAlias``
        named after the destination, which each mapped task resolves to ``<destination>/<resource>``.
        """
        if not kwargs.get("outlets"):
            destination = str(kwargs.get("destination") or "<mapped destination>")
            kwargs["outlets"] = [AssetAlias(name=_alias_name(destination, "*"))]
        return super().partial(**kwargs)

    @cached_property
    def hook(self) -> AppticsHook:
        from airflow_provider_zoho.hooks.apptics import AppticsHook  # keeps DAG-file imports cheap

        return AppticsHook(zoho_conn_id=self.zoho_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        validate_format(self.file_format, self.compression)
        base = _destination_path(self.destination, self.dest_conn_id)
        api_params = _checked_api_params(self.api_params)
        start, end = resolve_window(self.window_start, self.window_end, context)
        windows = [(start, end), *lookback_windows(start, self.lookback_days)]
        # Plan (and so validate) every window before the first request.
        streams = [
            (window_start, window_end, self._records(window_start, window_end, api_params))
            for window_start, window_end in windows
        ]
        results = []
        for window_start, window_end, records in streams:
            calls_before = self.hook.api_calls
            staged = stage_partition(
                partition_dir(base, self.resource, window_start, window_end),
                records,
                file_format=self.file_format,
                compression=self.compression,
            )
            result = staged.commit(
                {"resource": self.resource, "start": window_start.isoformat(), "end": window_end.isoformat()},
                api_calls=self.hook.api_calls - calls_before,  # this partition's calls: its stream has ended
            )
            self.log.info(
                "Wrote %d %s records for %s..%s to %s",
                result.records,
                self.resource,
                window_start,
                window_end,
                clean_uri(result.path),
            )
            results.append(result)
        self._record_asset_event(context, results)
        main, *lookback = (
            {"path": clean_uri(r.path), "records": r.records, "manifest": clean_uri(r.manifest_path)}
            for r in results
        )
        return {**main, "lookback": lookback} if lookback else main

    def _records(self, start, end, api_params: dict[str, Any]):
        return self.hook.iter_records(
            self.resource,
            start,
            end,
            platforms=self.platforms,
            app_versions=self.app_versions,
            mode=self.mode,
            **api_params,
        )

    def _record_asset_event(self, context: Context, results: list[PartitionResult]) -> None:
        """One event on ``<destination>/<resource>`` per run; its extra describes the partitions written."""
        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return
        main, *lookback = results
        extra = _describe(main)
        if lookback:  # flat values only: Airflow 2 hashes the extra
            extra |= {
                "lookback_start": lookback[0].manifest["start"],
                "lookback_end": lookback[-1].manifest["end"],
                "lookback_records": sum(result.records for result in lookback),
            }
        asset = Asset(uri=asset_uri(self.destination, self.resource))
        aliases = [outlet for outlet in self.outlets if _is_extraction_alias(outlet)]
        for alias in aliases:
            outlet_events[alias].add(asset, extra=extra)
        if not aliases:
            outlet_events[asset].extra = extra


def _destination_path(destination: Any, conn_id: str | None) -> ObjectStoragePath:
    """
    The storage base of ``destination``, which must name a place independent of the worker's directory.

    Accepted: a URI with a scheme and a location (``s3://bucket/prefix``, ``file:///data/zoho``...) or an
    absolute path. ``file://`` with a host part is refused too: fsspec reads ``file://data/zoho`` as the
    relative path ``data/zoho``.
    """
    text = destination.strip() if isinstance(destination, str) else ""
    parts = urlsplit(text)
    if parts.scheme in ("", "file", "local"):
        absolute = not parts.netloc and parts.path.startswith("/")
    else:
        absolute = bool(parts.netloc)
    if not absolute:
        shown = clean_uri(destination) if isinstance(destination, str) else repr(destination)
        raise ZohoConfigError(
            f"destination must be a URI with a scheme and a location ('s3://bucket/prefix', "
            f"'file:///data/zoho'...) or an absolute path, got {shown!r}: a relative or empty destination "
            "would write into the worker's current directory."
        )
    return ObjectStoragePath(text, conn_id=conn_id)


def _checked_api_params(api_params: Any) -> dict[str, Any]:
    """``api_params`` as keyword arguments for the hook: a dict of extra API parameters, or ``None``."""
    if api_params is None:
        return {}
    if not isinstance(api_params, Mapping):
        got = f"a {type(api_params).__name__}"
    elif not all(isinstance(key, str) for key in api_params):
        got = f"the key(s) {', '.join(repr(key) for key in api_params if not isinstance(key, str))}"
    else:
        got = ""
    if got:
        raise ZohoConfigError(
            "api_params must be a dict of extra API parameters with string keys, e.g. {'crash_id': '...'}, "
            f"got {got} (a templated api_params needs render_template_as_native_obj=True on the DAG to "
            "stay a dict)."
        )
    clash = sorted(set(api_params) & _named_arguments())
    if clash:
        raise ZohoConfigError(
            f"api_params must not hold {', '.join(map(repr, clash))}: set each through the operator's own "
            "argument of that name (the window through window_start/window_end); api_params is for extra "
            "API parameters such as crash_id, group or timezone."
        )
    return dict(api_params)


def _named_arguments() -> set[str]:
    """The names api_params would collide with: the operator's arguments and the hook's named ones."""
    from airflow_provider_zoho.hooks.apptics import AppticsHook

    names: set[str] = set()
    for function in (AppticsToStorageOperator.__init__, AppticsHook.iter_records):
        names.update(
            name
            for name, parameter in inspect.signature(function).parameters.items()
            if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
        )
    return names


def _describe(result: PartitionResult) -> dict[str, Any]:
    return {
        "start": result.manifest["start"],
        "end": result.manifest["end"],
        "records": result.records,
        "path": clean_uri(result.path),
    }


def clean_uri(path: Any) -> str:
    """A storage URI without connection userinfo (``s3://conn@bucket/k`` -> ``s3://bucket/k``)."""
    parts = urlsplit(str(path))
    return urlunsplit(
        (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, parts.query, parts.fragment)
    )


def asset_uri(destination: str, resource: str) -> str:
    """The stable asset of an extraction target: ``<destination>/<resource>`` without userinfo."""
    return f"{clean_uri(destination).rstrip('/')}/{resource}"


def _alias_name(destination: str, resource: str) -> str:
    return f"{_ALIAS_PREFIX}{asset_uri(destination, resource)}"


_ALIAS_PREFIX = "zoho-apptics:"


def _is_extraction_alias(outlet: Any) -> bool:
    return isinstance(outlet, AssetAlias) and outlet.name.startswith(_ALIAS_PREFIX)


def _extraction_outlets(destination: Any, resource: Any) -> list[Any]:
    """An ``Asset`` for a fixed target; an ``AssetAlias`` when destination or resource is templated."""
    if not isinstance(destination, str) or not isinstance(resource, str):
        return []  # mapped arguments: ``partial()`` declared the alias
    if "{{" in destination or "{%" in destination or "{{" in resource or "{%" in resource:
        return [AssetAlias(name=_alias_name(destination, resource))]
    return [Asset(uri=asset_uri(destination, resource))]
