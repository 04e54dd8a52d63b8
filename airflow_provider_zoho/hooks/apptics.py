"""
``AppticsHook``: Zoho Apptics resources as a stream of tidy records.

What each resource is lives in :mod:`~airflow_provider_zoho.hooks.apptics_resources`, which arguments
it takes in :mod:`~airflow_provider_zoho.hooks.apptics_planning` and how its answers become records in
:mod:`~airflow_provider_zoho.hooks.apptics_parsing`; this hook adds the HTTP side: authenticated paged
calls with retries, the repeated-page guard and progress logging.
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
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook, decode_json, strip_query

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Mapping

    from airflow_provider_zoho.hooks.apptics_resources import Resource

log = logging.getLogger(__name__)

__all__ = ["RESOURCES", "AppticsHook"]

_END = object()  # the fetcher's "no more pages"


class AppticsHook(ZohoOAuthHook):
    """
    Read Zoho Apptics analytics (crashes, events, active devices, screens, API stats...).

    The ``zoho`` connection must carry ``portal_id`` and ``project_id`` (sent as the ``zsoid`` and
    ``projectid`` headers). The constructor does no I/O.

    :param zoho_conn_id: the Airflow connection id.
    """

    #: The resource catalog: name -> path, parameters, paging and normalizer.
    RESOURCES: Mapping[str, Resource] = RESOURCES
    #: Seconds between two progress lines while streaming.
    progress_interval: float = 10.0

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

    def list_projects(self) -> list[dict[str, Any]]:
        """Return the portals and projects the token's user can read (``portal_id``, ``project_id``...)."""
        return list(self.iter_records("projects", None, None))

    def page_request(self, call: ApiCall, offset: int = 0) -> tuple[str, dict[str, str]]:
        """Return the URL and query parameters of one page of ``call`` (also used by the async trigger)."""
        return f"{self.settings.apptics_url}{API_ROOT}{call.path}", call.page_params(offset)

    def project_headers(self, call: ApiCall) -> dict[str, str]:
        """The ``zsoid``/``projectid`` headers ``call`` needs (none for ``projects``)."""
        return self._headers([call])

    # -- internals ----------------------------------------------------------------------------------------

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
                offset = 0
                previous: bytes | None = None
                while True:
                    url, params = self.page_request(call, offset)
                    content, data = self._retrying(self._fetch, url, params, headers)
                    self.api_calls += 1
                    if previous is not None and content == previous and content.strip():
                        raise ZohoAPIError(
                            f"Apptics answered offset {offset} of {call.resource.name!r} with the same page "
                            f"as offset {offset - PAGE_LIMIT}: the API ignores offset, so paging would never "
                            "end.",
                            url=strip_query(url),
                        )
                    full = page_is_full(call, data, PAGE_LIMIT)
                    if not hand_over((call, data)):
                        return
                    if not full:
                        break
                    previous = content
                    offset += PAGE_LIMIT
            hand_over(_END)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            hand_over(error)

    def _fetch(self, url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[bytes, Any]:
        response = self._authorized_request("GET", url, params=params, headers=headers)
        return response.content, decode_json(response)
