"""
The requests transport of the synchronous hooks: connections that say when a request is on the wire.

A thread that streams pages (:meth:`AppticsHook._stream <airflow_provider_zoho.hooks.apptics.AppticsHook>`)
hands each page to the thread that processes it only once the next request has been sent. Handed over any
earlier, the processing thread takes the GIL while the fetching one is still building that request (its
first system call, urllib3's check of the pooled connection, lets it go), and the request waits for the
whole page to be processed: the work meant to overlap the wait for Zoho is added to it instead.

:func:`when_sent` registers what the calling thread does after each request it sends within a block;
:class:`ZohoHTTPAdapter` (mounted by :class:`~airflow_provider_zoho.hooks.zoho.ZohoOAuthHook`) makes its
connections, direct or through an HTTP proxy, run it right after writing a request. A connection that
cannot tell (through a SOCKS proxy) runs it just before sending, so it runs once for every request.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["ZohoHTTPAdapter", "when_sent"]


class _Pending(threading.local):
    """What the calling thread does after each request it sends (each thread its own)."""

    callback: Callable[[], None] | None = None


_pending = _Pending()


@contextmanager
def when_sent(callback: Callable[[], None]) -> Iterator[None]:
    """
    Within the block, run ``callback`` each time this thread sends a request through a ZohoHTTPAdapter.

    It runs in this thread, before the answer is read (so it may take its time: the answer waits).

    :param callback: what to run.
    """
    _pending.callback = callback
    try:
        yield
    finally:
        _pending.callback = None


def request_sent() -> None:
    """Run what :func:`when_sent` registered for the calling thread, if anything."""
    callback = _pending.callback
    if callback is not None:
        callback()


class _Announcing:
    """A urllib3 connection that runs :func:`request_sent` once it has written a request."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # type: ignore[misc]
        request_sent()


class _AnnouncingHTTPConnection(_Announcing, HTTPConnection):
    pass


class _AnnouncingHTTPSConnection(_Announcing, HTTPSConnection):
    pass


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _AnnouncingHTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _AnnouncingHTTPSConnection


_POOL_CLASSES = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class ZohoHTTPAdapter(HTTPAdapter):
    """
    ``requests``' adapter, with connections that run :func:`when_sent`'s callback once a request is sent.

    Takes :class:`requests.adapters.HTTPAdapter`'s arguments (``pool_maxsize``...).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # an HTTP(S) proxy; a SOCKS one keeps its own connections
            manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        if not issubclass(pool.ConnectionCls, _Announcing):  # type: ignore[attr-defined]
            request_sent()  # its connections cannot tell: now, just before sending, is the closest
        return pool
