"""``AppticsDataTrigger``: waits asynchronously until an Apptics window holds enough records."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoError
from airflow_provider_zoho.hooks.apptics import AppticsHook
from airflow_provider_zoho.hooks.apptics_parsing import page_is_full, parse_page
from airflow_provider_zoho.hooks.apptics_planning import plan_calls
from airflow_provider_zoho.hooks.apptics_resources import PAGE_LIMIT
from airflow_provider_zoho.hooks.zoho import MALFORMED_RESPONSE, api_error, should_retry, strip_query

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from airflow_provider_zoho.hooks.apptics_planning import ApiCall

log = logging.getLogger(__name__)


class AppticsDataTrigger(BaseTrigger):
    """
    Poll Apptics until ``resource`` has at least ``min_records`` records in the window, then fire once.

    Runs in the triggerer; HTTP is asynchronous (httpx) and the access token comes from the same shared
    cache as every task (read in a worker thread, since Variables are synchronous). The event payload is
    ``{"status": "success", "records": n, ...}``, or ``{"status": "error", "message", "auth"}`` for a
    failure no waiting can fix (authentication, configuration, a 4xx). Transient failures (timeouts,
    429, 5xx) only mean "not yet".

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
        import httpx

        base = {"resource": self.resource, "window_start": self.window_start, "window_end": self.window_end}
        try:
            calls = plan_calls(
                self.resource,
                self.window_start,
                self.window_end,
                platforms=self.platforms,
                app_versions=self.app_versions,
                mode=self.mode,
                **(self.api_params or {}),
            )
            hook = AppticsHook(zoho_conn_id=self.zoho_conn_id)
            await asyncio.to_thread(hook.project_headers, calls[0])  # reads and validates the connection
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(hook.timeout[1], connect=hook.timeout[0]),
                headers={"User-Agent": str(hook.get_conn().headers["User-Agent"])},
            ) as client:
                while True:
                    try:
                        count = await self._count(client, hook, calls)
                    except Exception as error:
                        if not should_retry(error) and not isinstance(error, httpx.TransportError):
                            raise
                        log.info("Apptics not reachable yet (%s); checking again later.", error)
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

    async def _count(self, client: httpx.AsyncClient, hook: AppticsHook, calls: list[ApiCall]) -> int:
        """Count records page by page, stopping as soon as ``min_records`` are seen."""
        count = 0
        for call in calls:
            offset = 0
            previous: bytes | None = None
            while True:
                url, params = hook.page_request(call, offset)
                content = await self._get(client, hook, url, params, hook.project_headers(call))
                if previous is not None and content == previous and content.strip():
                    raise api_error(
                        f"Apptics ignores offset for {self.resource!r}", status=200, body=None, url=url
                    )
                data = _decode(content, url)
                count += len(parse_page(call, data))
                if count >= self.min_records:
                    return count
                if not page_is_full(call, data, PAGE_LIMIT):
                    break
                previous = content
                offset += PAGE_LIMIT
        return count

    async def _get(
        self, client: httpx.AsyncClient, hook: AppticsHook, url: str, params: dict[str, str], headers: dict
    ) -> bytes:
        token = await asyncio.to_thread(hook.get_access_token)
        response = await client.get(url, params=params, headers={**headers, **_auth(token)})
        if response.status_code == 401:
            await asyncio.to_thread(hook.invalidate_access_token, token)
            token = await asyncio.to_thread(hook.get_access_token)
            response = await client.get(url, params=params, headers={**headers, **_auth(token)})
            if response.status_code == 401:
                raise ZohoAuthError(
                    "Zoho rejected a freshly issued access token; check the refresh token's scope "
                    "(JProxy.jmobileapi.ALL) and the data center.",
                    status_code=401,
                    url=strip_query(url),
                )
        if response.status_code >= 400:
            raise api_error(
                "Apptics call failed",
                status=response.status_code,
                body=_json_or_none(response.content),
                url=url,
                retry_after=response.headers.get("Retry-After"),
            )
        hook.api_calls += 1
        return response.content


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}"}


def _decode(content: bytes, url: str) -> Any:
    import msgspec

    if not content.strip():
        return None
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError:  # a truncated body is transient, as in the hook
        raise ZohoAPIError(
            "Apptics answered with a body that is not valid JSON",
            status_code=200,
            code=MALFORMED_RESPONSE,
            url=strip_query(url),
        ) from None


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None
