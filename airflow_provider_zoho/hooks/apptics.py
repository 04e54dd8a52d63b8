"""
``AppticsHook``: Zoho Apptics resources as a stream of tidy records.

What each resource is lives in :mod:`~airflow_provider_zoho.hooks.apptics_resources`, which arguments
it takes in :mod:`~airflow_provider_zoho.hooks.apptics_planning` and how its answers become records in
:mod:`~airflow_provider_zoho.hooks.apptics_parsing`. This hook adds Apptics' side of HTTP on top of the
OAuth hook's core: the project headers, paging with its guard (:class:`PageCursor`), streaming with a page
fetched ahead, progress logging, and the asynchronous count the deferrable trigger polls with.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks.apptics_parsing import page_is_full, parse_page
from airflow_provider_zoho.hooks.apptics_planning import ApiCall, plan_calls
from airflow_provider_zoho.hooks.apptics_resources import API_ROOT, PAGE_LIMIT, RESOURCES
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook
from airflow_provider_zoho.hooks.zoho_http import strip_query

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Mapping

    from airflow_provider_zoho.hooks.apptics_resources import Resource

log = logging.getLogger(__name__)

__all__ = ["RESOURCES", "AppticsHook", "PageCursor"]

_END = object()  # the fetcher's "no more pages"


class PageCursor:
    """
    Where the paging of one call stands: the offset to fetch, and the guard against an API that ignores it.

    ``limit`` is :data:`PAGE_LIMIT`; ``offset`` starts at 0 and steps by it; paging stops after the first
    page that is not full. A full page equal to the previous one means the API ignored ``offset``: that is
    a ``ZohoAPIError``, not an endless loop.

    :param call: the call being paged.
    :param url: its URL, for the error.
    """

    def __init__(self, call: ApiCall, url: str) -> None:
        self.call = call
        self.url = url
        self.offset = 0
        self._previous: Any = None

    @property
    def params(self) -> dict[str, str]:
        """The query parameters of the page to fetch."""
        return self.call.page_params(self.offset)

    def advance(self, data: Any) -> bool:
        """
        Take the page just fetched at :attr:`offset`; return whether another page must be fetched.

        :param data: the page's decoded body.
        :raises ZohoAPIError: if the page repeats the previous (full) page.
        """
        if self.offset and data == self._previous and data is not None:
            raise ZohoAPIError(
                f"Apptics answered offset {self.offset} of {self.call.resource.name!r} with the same page as "
                f"offset {self.offset - PAGE_LIMIT}: the API ignores offset, so paging would never end.",
                url=strip_query(self.url),
            )
        if not page_is_full(self.call, data, PAGE_LIMIT):
            return False
        self._previous = data
        self.offset += PAGE_LIMIT
        return True


class AppticsHook(ZohoOAuthHook):
    """
    Read Zoho Apptics analytics (crashes, events, active devices, screens, API stats...).

    The ``zoho`` connection must carry ``portal_id`` and ``project_id`` (sent as the ``zsoid`` and
    ``projectid`` headers). The constructor does no I/O.

    :param zoho_conn_id: the Airflow connection id.
    """

    #: The resource catalog: name -> path, parameters, paging and declared columns.
    RESOURCES: Mapping[str, Resource] = RESOURCES
    #: Seconds between two progress lines while streaming.
    progress_interval: float = 10.0
    scopes = "JProxy.jmobileapi.ALL"
    status_hints = {
        **ZohoOAuthHook.status_hints,
        403: "access denied; check that the portal_id and project_id of the connection belong to this "
        "account and that the refresh token has the JProxy.jmobileapi.ALL scope",
        404: "no such endpoint; check apptics_url / the data center",
    }

    def __init__(self, zoho_conn_id: str = ZohoOAuthHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(zoho_conn_id=zoho_conn_id, **kwargs)
        #: Apptics calls answered so far by this hook (retried attempts not counted).
        self.api_calls = 0

    def iter_records(
        self,
        resource: str,
        start_date: dt.date | dt.datetime | str | None,
        end_date: dt.date | dt.datetime | str | None,
        *,
        platforms: Iterable[str] | str | None = None,
        app_versions: Iterable[str] | str | None = None,
        mode: int | str | None = None,
        **params: Any,
    ) -> Iterator[dict[str, Any]]:
        """
        Stream the records of ``resource`` for the inclusive window, fetching one page at a time.

        Every argument is validated here, before any request: a mistake raises ``ZohoConfigError``
        naming the argument, even though the records are only fetched as the iterator is consumed.

        :param resource: a name of :attr:`RESOURCES`.
        :param start_date: first day (``date``, ``datetime`` or ``YYYY-MM-DD``), inclusive.
        :param end_date: last day, inclusive.
        :param platforms: at most 5 of ``iOS``, ``Android``, ``macOS``, ``tvOS``, ``watchOS``, ``Windows``.
        :param app_versions: at most 10 app versions (1 for some crash resources).
        :param mode: ``0`` development or ``1`` production, for the resources that take it.
        :param params: other API parameters (``crash_id``, ``group``, ``timezone``, ``bundle``...).
        :return: an iterator of records (dicts), see ``docs/apptics-resources.md``.
        """
        calls = plan_calls(
            resource,
            start_date,
            end_date,
            platforms=platforms,
            app_versions=app_versions,
            mode=mode,
            **params,
        )
        headers = self._headers(calls)
        return self._stream(calls, headers)

    async def acount_records(
        self,
        resource: str,
        start_date: dt.date | dt.datetime | str | None,
        end_date: dt.date | dt.datetime | str | None,
        *,
        at_least: int,
        platforms: Iterable[str] | str | None = None,
        app_versions: Iterable[str] | str | None = None,
        mode: int | str | None = None,
        **params: Any,
    ) -> int:
        """
        Count the records of ``resource`` for the window on the event loop, stopping at ``at_least``.

        Same arguments, checks, paging and errors as :meth:`iter_records`; used by the deferrable trigger.

        :param at_least: stop counting (and fetching) once this many records are seen.
        :return: the number of records seen (at most the first page that reached ``at_least``).
        """
        calls = plan_calls(
            resource,
            start_date,
            end_date,
            platforms=platforms,
            app_versions=app_versions,
            mode=mode,
            **params,
        )
        headers = self._headers(calls)
        count = 0
        async with self.async_client() as client:
            for call in calls:
                cursor = PageCursor(call, self._url(call))
                more = True
                while more:
                    data = await self.arequest_json(
                        client, "GET", cursor.url, params=cursor.params, headers=headers
                    )
                    self.api_calls += 1
                    more = cursor.advance(data)
                    count += len(parse_page(call, data))
                    if count >= at_least:
                        return count
        return count

    def list_projects(self) -> list[dict[str, Any]]:
        """Return the portals and projects the token's user can read (``portal_id``, ``project_id``...)."""
        return list(self.iter_records("projects", None, None))

    def check_access(self) -> tuple[bool, str] | None:
        """Apptics' part of ``test_connection``: the connection's portal and project are readable."""
        settings = self.settings
        if not (settings.portal_id and settings.project_id):
            return None
        listed = any(
            project["portal_id"] == settings.portal_id and project["project_id"] == settings.project_id
            for project in self.list_projects()
        )
        if not listed:
            return False, (
                f"Apptics portal {settings.portal_id} / project {settings.project_id} is not among the "
                "projects this account can read."
            )
        return True, f"Apptics portal {settings.portal_id} and project {settings.project_id} are readable."

    # -- internals ----------------------------------------------------------------------------------------

    def _url(self, call: ApiCall) -> str:
        return f"{self.settings.apptics_url}{API_ROOT}{call.path}"

    def _headers(self, calls: list[ApiCall]) -> dict[str, str]:
        if not any(call.resource.project_headers for call in calls):
            return {}
        settings = self.settings
        missing = [name for name in ("portal_id", "project_id") if not getattr(settings, name)]
        if missing:
            raise ZohoConfigError(
                f"Zoho connection {self.zoho_conn_id!r}: Apptics calls need the extra field(s) "
                f"{' and '.join(missing)}. They are the numbers in an Apptics URL "
                "(https://apptics.zoho.com/ac/<portal_id>/dashboard/<project_id>/...), or list them with "
                "AppticsHook().list_projects()."
            )
        return {"zsoid": str(settings.portal_id), "projectid": str(settings.project_id)}

    def _stream(self, calls: list[ApiCall], headers: dict[str, str]) -> Iterator[dict[str, Any]]:
        """
        Yield the records of every page, in order.

        A fetcher thread requests the next page as soon as it knows the current one is full, while this
        generator normalizes and hands out the current one: the wait for Zoho overlaps the work on the
        records. It runs at most one page ahead, so memory stays flat.
        """
        pages: queue.Queue[Any] = queue.Queue(maxsize=1)
        stop = threading.Event()
        threading.Thread(
            target=self._fetch_pages, args=(calls, headers, pages, stop), name="apptics-fetch", daemon=True
        ).start()
        name = calls[0].resource.name
        records = pages_done = 0
        started = last_report = time.monotonic()
        try:
            while (item := pages.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                call, data = item
                page = parse_page(call, data)
                records += len(page)
                pages_done += 1
                yield from page
                now = time.monotonic()
                if now - last_report >= self.progress_interval:
                    last_report = now
                    rate = records / (now - started)
                    log.info(
                        "%s: %d records from %d pages so far (%.0f records/s).",
                        name,
                        records,
                        pages_done,
                        rate,
                    )
            elapsed = max(time.monotonic() - started, 1e-9)
            log.info("%s: %d records from %d pages in %.1f s.", name, records, pages_done, elapsed)
        finally:
            stop.set()  # also when the consumer stops early: the fetcher ends after its current request

    def _fetch_pages(
        self, calls: list[ApiCall], headers: dict[str, str], pages: queue.Queue[Any], stop: threading.Event
    ) -> None:
        """Fetch the pages of ``calls`` into ``pages`` (then ``_END``, or the error that stopped it)."""

        def hand_over(item: Any) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            for call in calls:
                cursor = PageCursor(call, self._url(call))
                more = True
                while more:
                    data = self.request_json("GET", cursor.url, params=cursor.params, headers=headers)
                    self.api_calls += 1
                    more = cursor.advance(data)
                    if not hand_over((call, data)):
                        return
            hand_over(_END)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            hand_over(error)
