"""``AppticsDataTrigger``: waits asynchronously until an Apptics window holds enough records."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_zoho.exceptions import ZohoAuthError, ZohoError
from airflow_provider_zoho.hooks.apptics import AppticsHook
from airflow_provider_zoho.hooks.zoho_http import is_transient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = logging.getLogger(__name__)


class AppticsDataTrigger(BaseTrigger):
    """
    Poll Apptics until ``resource`` has at least ``min_records`` records in the window, then fire once.

    Runs in the triggerer. Each poll is one :meth:`AppticsHook.acount_records` (asynchronous HTTP, with the
    hook's checks, retries and errors; the access token comes from the same shared cache as every task).
    The event payload is ``{"status": "success", "records": n, ...}``, or ``{"status": "error", "message",
    "auth"}`` for a failure no waiting can fix (authentication, configuration, a 4xx). Transient failures
    that outlast the hook's retries (timeouts, 429, 5xx, Zoho unreachable) only mean "not yet".

    :param resource: the Apptics resource.
    :param window_start: first day, ``YYYY-MM-DD``.
    :param window_end: last day, ``YYYY-MM-DD``.
    :param min_records: how many records make the window ready.
    :param zoho_conn_id: the ``zoho`` connection.
    :param platforms: platform filter.
    :param app_versions: app-version filter.
    :param mode: ``0`` development or ``1`` production.
    :param api_params: other API parameters.
    :param poll_interval: seconds between checks.
    """

    def __init__(
        self,
        *,
        resource: str,
        window_start: str,
        window_end: str,
        min_records: int = 1,
        zoho_conn_id: str = AppticsHook.default_conn_name,
        platforms: list[str] | str | None = None,
        app_versions: list[str] | str | None = None,
        mode: int | str | None = None,
        api_params: dict[str, Any] | None = None,
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__()
        self.resource = resource
        self.window_start = window_start
        self.window_end = window_end
        self.min_records = min_records
        self.zoho_conn_id = zoho_conn_id
        self.platforms = platforms
        self.app_versions = app_versions
        self.mode = mode
        self.api_params = api_params
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "resource": self.resource,
                "window_start": self.window_start,
                "window_end": self.window_end,
                "min_records": self.min_records,
                "zoho_conn_id": self.zoho_conn_id,
                "platforms": self.platforms,
                "app_versions": self.app_versions,
                "mode": self.mode,
                "api_params": self.api_params,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        base = {"resource": self.resource, "window_start": self.window_start, "window_end": self.window_end}
        hook = AppticsHook(zoho_conn_id=self.zoho_conn_id)
        try:
            while True:
                try:
                    count = await hook.acount_records(
                        self.resource,
                        self.window_start,
                        self.window_end,
                        at_least=self.min_records,
                        platforms=self.platforms,
                        app_versions=self.app_versions,
                        mode=self.mode,
                        **(self.api_params or {}),
                    )
                except ZohoError as error:
                    if not is_transient(error):
                        raise
                    log.info(
                        "Apptics not reachable yet (%s); checking again in %s s.", error, self.poll_interval
                    )
                else:
                    if count >= self.min_records:
                        yield TriggerEvent({**base, "status": "success", "records": count})
                        return
                    log.info(
                        "%s has %d of %d records for %s..%s; checking again in %s s.",
                        self.resource,
                        count,
                        self.min_records,
                        self.window_start,
                        self.window_end,
                        self.poll_interval,
                    )
                await asyncio.sleep(self.poll_interval)
        except ZohoError as error:
            yield TriggerEvent(
                {**base, "status": "error", "message": str(error), "auth": isinstance(error, ZohoAuthError)}
            )
