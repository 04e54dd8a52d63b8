"""
Errors raised by the Zoho provider.

Hierarchy::

    ZohoError(AirflowException)
    ├── ZohoConfigError      bad connection field or operator argument, raised before any request
    ├── ZohoAuthError        Zoho rejected the credentials; never retried
    └── ZohoAPIError         Zoho answered with an error, or could not be reached
        └── ZohoRateLimitError   HTTP 429, or the token-mint throttle

Errors that come from an HTTP exchange carry the HTTP status, Zoho's error code and the URL without its
query string (so no secret can leak through it). Text that comes from Zoho is scrubbed of secrets before it
enters a message (``airflow_provider_zoho.hooks.zoho_http.scrub``).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException


class ZohoError(AirflowException):
    """
    Base class of every error raised by the Zoho provider.

    :param message: what went wrong and how to fix it.
    :param status_code: the HTTP status, or ``None`` when no HTTP response is involved.
    :param code: Zoho's error code from the response body (e.g. ``invalid_code``), when it sent one.
    :param url: the request URL, without its query string.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        url: str | None = None,
    ) -> None:
        self.message = message
        # Shadows AirflowException.status_code (the HTTP status the old REST API answered with).
        self.status_code = status_code  # type: ignore[assignment]
        self.code = code
        self.url = url
        super().__init__(self._render())

    def _render(self) -> str:
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.code:
            details.append(f"Zoho error {self.code!r}")
        if self.url:
            details.append(self.url)
        return f"{self.message} [{', '.join(details)}]" if details else self.message

    def _keywords(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this error (subclasses add theirs)."""
        return {"status_code": self.status_code, "code": self.code, "url": self.url}

    def __reduce__(self):
        # Keep the keyword-only details when the error is pickled (e.g. across processes).
        return _rebuild, (type(self), self.message, self._keywords())


def _rebuild(cls: type[ZohoError], message: str, keywords: dict[str, Any]) -> ZohoError:
    return cls(message, **keywords)


class ZohoConfigError(ZohoError):
    """A connection field or an operator argument is missing or invalid; the message names it."""


class ZohoAuthError(ZohoError):
    """
    Zoho rejected the credentials: wrong client or data center, revoked refresh token, rejected token.

    Never retried: retrying cannot fix credentials, and every token request counts against Zoho's limits.
    """


class ZohoAPIError(ZohoError):
    """
    Zoho answered with an error status or an unusable body, or could not be reached.

    :param message: what went wrong and how to fix it.
    :param retry_after: the server's ``Retry-After`` in seconds, when it sent one (retries wait that long).
    :param kwargs: ``status_code``, ``code`` and ``url``, as for :class:`ZohoError`.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def _keywords(self) -> dict[str, Any]:
        return {**super()._keywords(), "retry_after": self.retry_after}


class ZohoRateLimitError(ZohoAPIError):
    """Zoho refused the call because a rate limit was hit (HTTP 429, or the token-mint throttle)."""
