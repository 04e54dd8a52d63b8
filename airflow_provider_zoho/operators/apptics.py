"""``AppticsToStorageOperator``: one idempotent partition per Apptics resource, identity and window."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.operators.storage import BaseZohoToStorageOperator, Extraction
from airflow_provider_zoho.windows import day_keys, lookback_windows, resolve_window

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_zoho.hooks.apptics import AppticsHook


class AppticsToStorageOperator(BaseZohoToStorageOperator):
    """
    Extract one Zoho Apptics resource for a window of days into object storage.

    Records stream page by page into
    ``<destination>/<resource>/[<identity>/]start=<YYYY-MM-DD>/end=<YYYY-MM-DD>/data.<ext>[.gz]``, then
    ``_manifest.json`` is written as the commit marker. The identity levels (``platform=iOS``,
    ``group=country``...) appear only for the parameters that are set, so tasks asking for different data
    never share a partition (see ``dataset_identity``). A per-crash resource (``crash_detail``,
    ``crash_os_versions``, ``crash_device_models``, ``crash_issue_counts_by_date``) without a ``crash_id``
    in ``api_params`` extracts every crash issue that ``crashes`` lists for the window into one partition,
    ``crash_concurrency`` issues at a time (``AppticsHook.iter_crash_records``). A failed or killed run
    leaves the previous partition (or nothing) in place, and re-running a window replaces its partition;
    identical API data gives a byte-identical data file. The task returns ``{"path", "records",
    "manifest"}`` (never data) and records an asset event on ``<destination>/<resource>``.

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
    :param platforms: at most 5 platforms (``iOS``, ``Android``...), list or comma string (templated). For
        a per-crash resource without ``crash_id``, they narrow the crash list.
    :param app_versions: app versions to filter on (templated).
    :param mode: ``0`` development or ``1`` production data (templated).
    :param api_params: extra query parameters, e.g. ``{"crash_id": "...", "group": "date,country"}``
        (templated).
    :param file_format: ``jsonl`` (default), ``csv`` or ``parquet`` (needs the ``parquet`` extra).
    :param compression: ``None`` or ``gzip`` (gzip stream for jsonl/csv; parquet's own codec for parquet).
    :param crash_concurrency: how many crash issues a per-crash resource without ``crash_id`` fetches at
        once, 1 to 16 (default 4). Not templated: it sets the load on Apptics, not what is extracted.
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
        crash_concurrency: int = 4,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            destination=destination,
            zoho_conn_id=zoho_conn_id,
            dest_conn_id=dest_conn_id,
            file_format=file_format,
            compression=compression,
            folder_template=resource,
            **kwargs,
        )
        self.resource = resource
        self.window_start = window_start
        self.window_end = window_end
        self.lookback_days = lookback_days
        self.platforms = platforms
        self.app_versions = app_versions
        self.mode = mode
        self.api_params = api_params
        self.crash_concurrency = crash_concurrency

    @property
    def folder(self) -> str:
        return self.resource

    @cached_property
    def hook(self) -> AppticsHook:
        from airflow_provider_zoho.hooks.apptics import AppticsHook  # keeps DAG-file imports cheap

        return AppticsHook(zoho_conn_id=self.zoho_conn_id)

    def manifest_fields(self) -> dict[str, Any]:
        return {"resource": self.resource}

    def lineage_inputs(self) -> list[tuple[str, str]]:
        """
        ``zoho-apptics://<data center>/<portal_id>``, ``<project_id>/<resource>``.

        ``crashes`` comes first when the crash list named the issues read (a fan-out); ``projects`` is the
        account's, not a project's: ``zoho-apptics://<data center>``, ``projects``.
        """
        from airflow_provider_zoho.hooks.apptics_planning import CRASH_LIST, fans_out, resolve_resource

        settings = self.hook.settings
        if not resolve_resource(self.resource).project_headers:
            return [(f"zoho-apptics://{settings.data_center}", self.resource)]
        names = [self.resource]
        if fans_out(self.resource, _checked_api_params(self.api_params).get("crash_id")):
            names.insert(0, CRASH_LIST)
        namespace = f"zoho-apptics://{settings.data_center}/{settings.portal_id}"
        return [(namespace, f"{settings.project_id}/{name}") for name in names]

    def extractions(self, context: Context) -> list[Extraction]:
        from airflow_provider_zoho.hooks.apptics_planning import (
            check_concurrency,
            dataset_columns,
            dataset_identity,
            fans_out,
        )

        api_params = _checked_api_params(self.api_params)
        filters: dict[str, Any] = {
            "platforms": self.platforms,
            "app_versions": self.app_versions,
            "mode": self.mode,
        }
        identity = tuple(dataset_identity(self.resource, **filters, **api_params))
        columns = dataset_columns(self.resource, api_params.get("group"))
        concurrency = check_concurrency(self.crash_concurrency, "crash_concurrency")
        read: Callable[..., Iterator[dict[str, Any]]] = self.hook.iter_records
        if fans_out(self.resource, api_params.get("crash_id")):
            read = partial(self.hook.iter_crash_records, concurrency=concurrency)
        start, end = resolve_window(self.window_start, self.window_end, context)
        windows = [(start, end), *lookback_windows(start, self.lookback_days)]
        # The hook checks every argument when called, before its stream makes the first request.
        return [
            Extraction(
                window=day_keys(first, last),
                records=read(self.resource, first, last, **filters, **api_params),
                identity=identity,
                columns=columns,
            )
            for first, last in windows
        ]


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
    for function in (
        AppticsToStorageOperator.__init__,
        AppticsHook.iter_records,
        AppticsHook.iter_crash_records,
    ):
        names.update(
            name
            for name, parameter in inspect.signature(function).parameters.items()
            if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
        )
    return names
