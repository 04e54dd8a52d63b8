"""
``AppticsHook``: Zoho Apptics resources as a stream of tidy records.

What each resource is lives in :mod:`~airflow_provider_zoho.hooks.apptics_resources`, which arguments
it takes in :mod:`~airflow_provider_zoho.hooks.apptics_planning` and how its answers become records in
:mod:`~airflow_provider_zoho.hooks.apptics_parsing`. This hook adds Apptics' side of HTTP on top of the
OAuth hook's core: the project headers, paging with its guard (:class:`PageCursor`), streaming with a page
fetched ahead, the per-crash fan-out (every crash issue of a window, a few at a time, in list order),
progress logging, and the asynchronous count the deferrable trigger polls with.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks.apptics_parsing import page_is_full, parse_page
from airflow_provider_zoho.hooks.apptics_planning import (
    ApiCall,
    check_concurrency,
    crash_id_text,
    plan_calls,
    plan_crash_fan_out,
)
from airflow_provider_zoho.hooks.apptics_resources import API_ROOT, PAGE_LIMIT, RESOURCES
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook
from airflow_provider_zoho.hooks.zoho_http import decode_envelope, decode_json, strip_query

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Generator, Iterable, Iterator, Mapping
    from concurrent.futures import Future

    from airflow_provider_zoho.hooks.apptics_planning import CrashFanOut
    from airflow_provider_zoho.hooks.apptics_resources import Resource
    from airflow_provider_zoho.hooks.zoho_http import Response

log = logging.getLogger(__name__)

__all__ = ["RESOURCES", "AppticsHook", "PageCursor"]

_END = object()  # the fetcher's "no more pages"


class FetchedPage:
    """
    One Apptics answer as the fetcher reads it: enough to page on, the records left for the consumer.

    :param call: the call it answers.
    :param response: the successful response.
    :raises ZohoAPIError: if the body is not JSON (retried: a truncated body is the usual cause).
    """

    __slots__ = ("call", "envelope", "response")

    def __init__(self, call: ApiCall, response: Response) -> None:
        self.call = call
        self.response = response
        #: The body decoded down to its arrays (:func:`.decode_envelope`), what paging reads.
        self.envelope = decode_envelope(response)

    def records(self) -> list[dict[str, Any]]:
        """The page's tidy records (:func:`.parse_page` of the whole body, decoded now)."""
        return parse_page(self.call, decode_json(self.response))


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

        :param data: the page's decoded body (array items may be left encoded: :func:`.decode_envelope`).
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
        #: Apptics calls answered so far by this hook (retried attempts not counted), from every thread.
        self.api_calls = 0
        self._api_calls_lock = threading.Lock()

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

    def iter_crash_records(
        self,
        resource: str,
        start_date: dt.date | dt.datetime | str,
        end_date: dt.date | dt.datetime | str,
        *,
        platforms: Iterable[str] | str | None = None,
        app_versions: Iterable[str] | str | None = None,
        mode: int | str | None = None,
        concurrency: int = 4,
        **params: Any,
    ) -> Iterator[dict[str, Any]]:
        """
        Stream a per-crash resource for every crash issue that ``crashes`` lists for the window.

        The crash list is read page by page (all of its pages); each issue's calls are made by up to
        ``concurrency`` threads at once, and its records are yielded in the list's order, each carrying
        ``crash_id``, so a re-run gives the same records in the same order. That is one pass over the list
        plus one call set per issue (an issue listed twice is read once). At most ``concurrency`` issues'
        records are held in memory at a time. A failed call of any issue ends the stream with its error
        (the issues after it are not read). Every argument is validated here, before any request.

        :param resource: ``crash_detail``, ``crash_os_versions``, ``crash_device_models`` or
            ``crash_issue_counts_by_date``.
        :param start_date: first day (``date``, ``datetime`` or ``YYYY-MM-DD``), inclusive.
        :param end_date: last day, inclusive.
        :param platforms: narrow the crash list (at most 5 platforms).
        :param app_versions: narrow the crash list and each issue's records (at most 1 for
            ``crash_detail`` and ``crash_issue_counts_by_date``).
        :param mode: ``0`` development or ``1`` production, for the list and each issue.
        :param concurrency: how many crash issues are fetched at once, 1 to 16.
        :param params: other API parameters of the per-crash resource; no ``crash_id``.
        :return: an iterator of records (dicts), see ``docs/apptics-resources.md``.
        """
        plan = plan_crash_fan_out(
            resource,
            start_date,
            end_date,
            platforms=platforms,
            app_versions=app_versions,
            mode=mode,
            **params,
        )
        workers = check_concurrency(concurrency)
        headers = self._headers([*plan.list_calls, *plan.issue_calls])
        # Built here, once, rather than raced for by the threads that share them.
        self.get_conn()
        _ = self.token_cache
        return self._stream_crashes(plan, headers, workers)

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
                    self._count_call()
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

    def _stream(self, calls: list[ApiCall], headers: dict[str, str]) -> Generator[dict[str, Any], None, None]:
        """
        Yield the records of every page, in order.

        A fetcher thread requests the next page as soon as it knows the current one is full, while this
        generator decodes, normalizes and hands out the current one: the wait for Zoho overlaps the work on
        the records. The fetcher reads of each page only what paging needs (:func:`.decode_envelope`) and
        hands it over once the next request is sent (:func:`.transport.when_sent`), so that work never
        holds the next request up. It runs at most two pages ahead (one queued, one held until the next
        request is sent), so memory stays flat.
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
                page = item.records()
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
        """
        Fetch the pages of ``calls`` into ``pages`` (then ``_END``, or the error that stopped it).

        Each page is put once the next request is sent, or once it is known that none will be.
        """
        from airflow_provider_zoho.hooks.transport import when_sent

        held: list[Any] = []  # fetched and not handed over yet, in order

        def hand_over() -> None:
            while held and not stop.is_set():
                try:
                    pages.put(held[0], timeout=0.1)
                except queue.Full:
                    continue
                del held[0]

        try:
            with when_sent(hand_over):
                for page in self._pages(calls, headers, stop):
                    # Done already, unless no request went out since the previous page: a transport that
                    # does not announce its requests (a test double) still streams, one page behind.
                    hand_over()
                    held.append(page)
            held.append(_END)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            held.append(error)
        hand_over()

    def _pages(
        self, calls: Iterable[ApiCall], headers: dict[str, str], stop: threading.Event
    ) -> Iterator[FetchedPage]:
        """Request the pages of ``calls`` in order until ``stop`` is set."""
        for call in calls:
            cursor = PageCursor(call, self._url(call))
            read = partial(FetchedPage, call)
            more = True
            while more and not stop.is_set():
                page = self.request_json(
                    "GET", cursor.url, params=cursor.params, headers=headers, decode=read
                )
                self._count_call()
                more = cursor.advance(page.envelope)
                yield page

    def _count_call(self) -> None:
        with self._api_calls_lock:
            self.api_calls += 1

    def _stream_crashes(
        self, plan: CrashFanOut, headers: dict[str, str], concurrency: int
    ) -> Iterator[dict[str, Any]]:
        """
        Yield the records of every crash issue the plan's list holds, in list order.

        The list streams in (see :meth:`_stream`). Each issue's calls go to a pool of ``concurrency``
        threads as soon as its id is read, and at most ``concurrency`` issues are submitted and not yet
        handed out: when that many are, the oldest one's records are awaited and yielded before the next
        issue is submitted. So the requests in flight and the records held are both bounded, and the
        output order is the list's whatever the order in which the answers arrive.
        """
        from concurrent.futures import ThreadPoolExecutor

        name = plan.resource.name
        stop = threading.Event()
        pool = ThreadPoolExecutor(concurrency, thread_name_prefix="apptics-crash")
        pending: deque[Future[list[dict[str, Any]]]] = deque()
        issues = records = 0
        started = last_report = time.monotonic()
        listed = self._listed_crash_ids(plan, headers)
        try:
            for crash_id in listed:
                calls = plan.calls_for(crash_id)
                pending.append(pool.submit(self._issue_records, calls, headers, stop))
                if len(pending) < concurrency:
                    continue
                found = pending.popleft().result()
                issues, records = issues + 1, records + len(found)
                yield from found
                now = time.monotonic()
                if now - last_report >= self.progress_interval:
                    last_report = now
                    log.info("%s: %d records of %d crash issues so far.", name, records, issues)
            while pending:
                found = pending.popleft().result()
                issues, records = issues + 1, records + len(found)
                yield from found
            elapsed = time.monotonic() - started
            log.info("%s: %d records of %d crash issues in %.1f s.", name, records, issues, elapsed)
        finally:
            stop.set()  # on an error or an early stop, the threads make no further request
            pool.shutdown(wait=False, cancel_futures=True)
            listed.close()

    def _listed_crash_ids(self, plan: CrashFanOut, headers: dict[str, str]) -> Generator[str, None, None]:
        """The crash ids of the plan's crash list, in its order, each once."""
        seen: set[str] = set()
        listed = self._stream(list(plan.list_calls), headers)
        try:
            for position, record in enumerate(listed, start=1):
                value = record.get("crash_id")
                crash_id = crash_id_text(value)
                if crash_id is None:
                    raise ZohoAPIError(
                        f"Apptics listed a crash issue (row {position} of 'crashes' for the window) whose id "
                        f"{value!r} is not a crash id (letters, digits, '-' or '_'), so its "
                        f"{plan.resource.name!r} cannot be requested.",
                        url=self._url(plan.list_calls[0]),
                    )
                if crash_id in seen:
                    log.warning("Apptics listed crash issue %s twice; its records are read once.", crash_id)
                    continue
                seen.add(crash_id)
                yield crash_id
        finally:
            listed.close()  # stops the list's page-ahead fetcher at once when the fan-out ends early

    def _issue_records(
        self, calls: list[ApiCall], headers: dict[str, str], stop: threading.Event
    ) -> list[dict[str, Any]]:
        """Every record of one crash issue (run by a fan-out thread)."""
        found: list[dict[str, Any]] = []
        for page in self._pages(calls, headers, stop):
            found.extend(page.records())
        return found
