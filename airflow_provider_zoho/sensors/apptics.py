"""``AppticsDataSensor``: wait until Apptics has data for a window."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, conf

from airflow_provider_zoho.exceptions import ZohoAuthError, ZohoError
from airflow_provider_zoho.windows import resolve_window

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_zoho.hooks.apptics import AppticsHook


class AppticsDataSensor(BaseSensorOperator):
    """
    Wait until ``resource`` has at least ``min_records`` records for the window.

    The window defaults exactly like ``AppticsToStorageOperator``'s (the whole days of the data interval,
    or the day before the logical date), so the sensor guards the extraction that follows it. Works in
    ``poke`` and ``reschedule`` mode, and with ``deferrable=True`` it waits in the triggerer
    (``AppticsDataTrigger``) without holding a worker slot. Authentication and configuration errors fail
    the sensor at once; transient errors (timeouts, 429, 5xx) count as "not yet".

    :param resource: the Apptics resource (templated).
    :param zoho_conn_id: the ``zoho`` connection (templated).
    :param window_start: first day, inclusive (templated); defaults like the operator's.
    :param window_end: last day, inclusive (templated).
    :param min_records: records needed to succeed (default 1; templated).
    :param platforms: platform filter (templated).
    :param app_versions: app-version filter (templated).
    :param apptics_mode: Apptics data ``0`` development or ``1`` production (templated; the operator's
        ``mode``, renamed because a sensor's ``mode`` is ``poke`` or ``reschedule``).
    :param api_params: extra query parameters (templated).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = (
        "resource",
        "zoho_conn_id",
        "window_start",
        "window_end",
        "min_records",
        "platforms",
        "app_versions",
        "apptics_mode",
        "api_params",
    )
    template_fields_renderers = {"api_params": "json"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        resource: str,
        zoho_conn_id: str = "zoho_default",
        window_start: Any = None,
        window_end: Any = None,
        min_records: int = 1,
        platforms: Sequence[str] | str | None = None,
        app_versions: Sequence[str] | str | None = None,
        apptics_mode: int | str | None = None,
        api_params: dict[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.zoho_conn_id = zoho_conn_id
        self.window_start = window_start
        self.window_end = window_end
        self.min_records = min_records
        self.platforms = platforms
        self.app_versions = app_versions
        self.apptics_mode = apptics_mode
        self.api_params = api_params
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> AppticsHook:
        from airflow_provider_zoho.hooks.apptics import AppticsHook  # keeps DAG-file imports cheap

        return AppticsHook(zoho_conn_id=self.zoho_conn_id)

    def poke(self, context: Context) -> bool:
        from airflow_provider_zoho.hooks.zoho_http import is_transient

        start, end = resolve_window(self.window_start, self.window_end, context)
        records = self.hook.iter_records(
            self.resource,
            start,
            end,
            platforms=self.platforms,
            app_versions=self.app_versions,
            mode=self.apptics_mode,
            **(self.api_params or {}),
        )
        count = 0
        try:
            for _ in records:
                count += 1
                if count >= self.min_records:
                    break
        except Exception as error:
            if not is_transient(error):
                raise
            self.log.info("Apptics is not answering yet (%s); will check again.", error)
            return False
        self.log.info(
            "%s has %s record(s) for %s..%s (need %d).", self.resource, count, start, end, self.min_records
        )
        return count >= self.min_records

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # Deferrable: check once on the worker (no triggerer round trip when the data is already there),
        # then hand the waiting to the triggerer. The two paths must not both run: poking continues there.
        if self.poke(context):
            return None
        from airflow_provider_zoho.triggers.apptics import AppticsDataTrigger

        start, end = resolve_window(self.window_start, self.window_end, context)
        self.defer(
            trigger=AppticsDataTrigger(
                resource=self.resource,
                window_start=start.isoformat(),
                window_end=end.isoformat(),
                min_records=self.min_records,
                zoho_conn_id=self.zoho_conn_id,
                platforms=_plain(self.platforms),
                app_versions=_plain(self.app_versions),
                mode=self.apptics_mode,
                api_params=self.api_params,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> None:
        """Finish after the trigger fired: succeed, or fail with the trigger's reason."""
        if event.get("status") == "success":
            self.log.info(
                "%s has %s record(s) for %s..%s.",
                self.resource,
                event.get("records"),
                event.get("window_start"),
                event.get("window_end"),
            )
            return
        message = event.get("message", "the trigger failed")
        raise (ZohoAuthError if event.get("auth") else ZohoError)(message)


def _plain(value: Any) -> Any:
    """Lists and comma strings survive trigger serialization; tuples become lists."""
    return list(value) if isinstance(value, tuple) else value
