"""
The ``zoho`` connection: its fields, checked when the connection is read, before any request.

Every check raises ``ZohoConfigError`` naming the field and how to fix it, and never shows a secret. The
checks of single fields (``parse_data_center``, ``validate_*``) are reusable by name, for fields every
product adds (a URL override, an id sent in a header) and by the command line. The client secret and the
refresh token are registered with Airflow's secret masker as soon as they are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.get_provider_info import DATA_CENTERS, TOKEN_MARGIN_MAX_SECONDS
from airflow_provider_zoho.hooks.token_cache import mask
from airflow_provider_zoho.hooks.zoho_http import scrub

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


#: Accounts server per data center (https://www.zoho.com/accounts/protocol/oauth/multi-dc.html).
ACCOUNTS_HOSTS = {dc: f"accounts.zoho.{dc}" for dc in DATA_CENTERS} | {"ca": "accounts.zohocloud.ca"}
#: Apptics API server per data center. Zoho documents com, eu and in; the others follow the same rule
#: ("replace .com with your domain") and can be overridden with the connection's ``apptics_url``.
APPTICS_HOSTS = {dc: f"apptics.zoho.{dc}" for dc in DATA_CENTERS} | {"ca": "apptics.zohocloud.ca"}
#: Zoho Desk API server per data center (never the token's ``api_domain``, which Desk does not serve).
#: ``desk.zohocloud.ca`` for ca; ``desk.zoho.uk`` is not confirmed by any public source (override it with
#: the connection's ``desk_url`` if it differs).
DESK_HOSTS = {dc: f"desk.zoho.{dc}" for dc in DATA_CENTERS} | {"ca": "desk.zohocloud.ca"}
#: Refresh margin used when the connection leaves ``token_margin_seconds`` empty.
DEFAULT_TOKEN_MARGIN_SECONDS = 300
_DIGITS = re.compile(r"[0-9]+")
_HOST = re.compile(r"[a-z0-9._:-]+")
#: What a URL override may contain at all: visible ASCII (no spaces, CR/LF or other control characters).
_URL_TEXT = re.compile(r"[\x21-\x7e]+")


# -- connection settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZohoConnectionSettings:
    """
    The validated fields of a ``zoho`` connection.

    :param conn_id: the connection id.
    :param client_id: Self Client id (the connection's login).
    :param client_secret: Self Client secret (the connection's password).
    :param refresh_token: long-lived refresh token (extra ``refresh_token``).
    :param data_center: one of ``DATA_CENTERS``.
    :param accounts_url: accounts server root, derived from the data center unless overridden.
    :param apptics_url: Apptics server root, derived from the data center unless overridden.
    :param portal_id: Apptics portal id (header ``zsoid``).
    :param project_id: Apptics project id (header ``projectid``).
    :param token_margin_seconds: refresh a token this long before it expires.
    :param desk_url: Zoho Desk server root, derived from the data center unless overridden.
    :param desk_org_id: Zoho Desk organization id (header ``orgId``).
    """

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    data_center: str = "com"
    accounts_url: str = "https://accounts.zoho.com"
    apptics_url: str = "https://apptics.zoho.com"
    portal_id: str | None = None
    project_id: str | None = None
    token_margin_seconds: int = 300
    desk_url: str = "https://desk.zoho.com"
    desk_org_id: str | None = None

    @classmethod
    def from_connection(cls, conn: Any) -> ZohoConnectionSettings:
        """
        Validate an Airflow connection; raise ``ZohoConfigError`` naming the first bad field.

        The client secret and the refresh token are registered with Airflow's secret masker as soon as they
        are read, and no error message shows them.
        """
        conn_id = conn.conn_id
        context = f"Zoho connection {conn_id!r}: "
        extra = conn.extra_dejson
        if extra is None or extra == "":
            extra = {}
        if not isinstance(extra, dict):
            raise ZohoConfigError(
                f"{context}the extra must be a JSON object of fields, got a {type(extra).__name__}."
            )

        def extra_field(name: str) -> Any:
            value = extra.get(name)
            if value in (None, ""):
                value = extra.get(f"extra__zoho__{name}")
            return None if value in (None, "") else value

        def text(value: Any) -> str | None:
            return None if value is None else str(value).strip() or None

        def required(value: str | None, what: str) -> str:
            if not value:
                raise ZohoConfigError(f"{context}{what}")
            return value

        secrets = (text(conn.password), text(extra_field("refresh_token")))
        for secret in secrets:
            mask(secret)
        client_id = required(
            text(conn.login),
            "the Client ID (login) is empty. Copy it from your Self Client in the Zoho API console "
            "(https://api-console.zoho.com, or the console of your data center).",
        )
        client_secret = required(
            text(conn.password),
            "the Client Secret (password) is empty. Copy it from the Self Client's 'Client Secret' tab.",
        )
        refresh_token = required(
            text(extra_field("refresh_token")),
            "the extra field 'refresh_token' is empty. Generate a grant code for your Self Client "
            "(scope JProxy.jmobileapi.ALL) and exchange it within 3 minutes: "
            "python -m airflow_provider_zoho auth exchange --code ... --client-id ... --client-secret ...",
        )
        data_center = parse_data_center(
            text(extra_field("data_center")) or "com", "data_center", context=context, secrets=secrets
        )

        def url(name: str, hosts: Mapping[str, str]) -> str:
            value, default = extra_field(name), default_root_url(hosts, data_center)
            if value is None:
                return default
            return validate_root_url(value, name, example=default, context=context, secrets=secrets)

        def digits(name: str) -> str | None:
            value = extra_field(name)
            return None if value is None else validate_digits(value, name, context=context, secrets=secrets)

        return cls(
            conn_id=conn_id,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            data_center=data_center,
            accounts_url=url("accounts_url", ACCOUNTS_HOSTS),
            apptics_url=url("apptics_url", APPTICS_HOSTS),
            portal_id=digits("portal_id"),
            project_id=digits("project_id"),
            token_margin_seconds=validate_margin(
                extra_field("token_margin_seconds"), context=context, secrets=secrets
            ),
            desk_url=url("desk_url", DESK_HOSTS),
            desk_org_id=digits("desk_org_id"),
        )


# -- field validators: each raises ZohoConfigError naming the field, and never shows a secret ---------------


def _shown(value: Any, secrets: Iterable[str | None] = ()) -> str:
    """``repr(value)`` for an error message: scrubbed of ``secrets`` and cut to 60 characters."""
    shown = scrub(repr(value), secrets)
    return shown if len(shown) <= 60 else f"{shown[:57]}..."


def parse_data_center(
    value: Any,
    field: str = "data_center",
    *,
    context: str = "",
    secrets: Iterable[str | None] = (),
    hints: Mapping[str, str] | None = None,
) -> str:
    """
    Read a data center as people write it: ``EU``, ``.eu`` and `` eu `` are ``eu``.

    :param value: the value given.
    :param field: its name, for the message (a connection field, or a command-line option).
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :param hints: likely mistakes and the data center they probably mean (``{"us": "com"}``), suggested in
        the message.
    :return: one of ``DATA_CENTERS``.
    :raises ZohoConfigError: for anything else, listing the data centers.
    """
    data_center = str(value).strip().lower().lstrip(".")
    if data_center in DATA_CENTERS:
        return data_center
    hint = (hints or {}).get(data_center)
    did_you_mean = f" Did you mean {hint!r}?" if hint else ""
    given = [secret for secret in secrets if secret]
    secrets = [*given, *(secret.lower() for secret in given)]  # the text shown is lower-cased, a secret too
    raise ZohoConfigError(
        f"{context}unknown {field} {_shown(data_center, secrets)}. Use one of {', '.join(DATA_CENTERS)}: "
        "the domain of accounts.zoho.<data center> you log in at (ca is accounts.zohocloud.ca)."
        f"{did_you_mean}"
    )


def default_root_url(hosts: Mapping[str, str], data_center: str) -> str:
    """
    The server root of a data center when the connection does not override it.

    :param hosts: the product's hosts per data center (``ACCOUNTS_HOSTS``, ``APPTICS_HOSTS``...).
    :param data_center: one of ``DATA_CENTERS``.
    """
    return f"https://{hosts[data_center]}"


def validate_root_url(
    value: Any, field: str, *, example: str, context: str = "", secrets: Iterable[str | None] = ()
) -> str:
    """
    Check a server root override such as ``accounts_url``, ``apptics_url`` or ``desk_url``.

    :param value: the value given.
    :param field: its name, for the message (a connection field, or a command-line option).
    :param example: a valid value, for the message.
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :return: ``http(s)://host[:port][/path]`` without a trailing slash.
    :raises ZohoConfigError: for anything else: another scheme, user info (``user:password@``, never shown
        since it may hold a password), a query or fragment, a bad port, spaces or control characters.
    """
    text = value.strip() if isinstance(value, str) else value
    must = (
        f"{context}{field} must be an http(s) URL of the form http(s)://host[:port][/path], such as {example}"
    )
    # A value with "@" may hold user:password@: it is never shown.
    shown = "a value that is not shown (it contains '@')" if "@" in str(value) else _shown(value, secrets)
    if not isinstance(text, str) or not _URL_TEXT.fullmatch(text):
        raise ZohoConfigError(f"{must} (visible ASCII, no spaces), got {shown}.")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise ZohoConfigError(
            f"{must}: it contains a user name or password (user:password@host), which Zoho does not use; "
            "remove it (the value is not shown because it may hold a password)."
        )
    problem = _root_url_problem(parts, text)
    if problem:
        raise ZohoConfigError(f"{must}: {problem}, got {shown}.")
    return text.rstrip("/")


def _root_url_problem(parts: SplitResult, text: str) -> str | None:
    if parts.scheme not in ("http", "https"):
        return "the scheme is not http or https"
    if not parts.hostname or not _HOST.fullmatch(parts.hostname):
        return "the host is missing or not a host name"
    if "?" in text or "#" in text:
        return "a query (?...) or fragment (#...) has no place in a server root"
    try:
        port = parts.port
    except ValueError:
        return "the port is not a number from 1 to 65535"
    if port == 0 or parts.netloc.endswith(":"):
        return "the port is not a number from 1 to 65535"
    return None


def validate_digits(value: Any, field: str, *, context: str = "", secrets: Iterable[str | None] = ()) -> str:
    """
    Check an id sent in a header, such as ``portal_id``, ``project_id`` or ``desk_org_id``.

    :param value: the value given (text, or a JSON integer).
    :param field: its name, for the message.
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :return: the id as text.
    :raises ZohoConfigError: unless it is made of the ASCII digits 0-9 only (no signs, spaces, CR/LF or
        full-width digits).
    """
    text = str(value).strip(" ") if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not _DIGITS.fullmatch(text):
        raise ZohoConfigError(
            f"{context}{field} must be a number made of the digits 0-9 only, got {_shown(value, secrets)}. "
            "Copy it from the product's URL or its settings page."
        )
    return text


def validate_margin(value: Any, *, context: str = "", secrets: Iterable[str | None] = ()) -> int:
    """
    Check ``token_margin_seconds``: a whole number of seconds from 0 to 1800; empty means 300.

    :param value: the value given (``None`` when empty).
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :return: the margin in seconds.
    :raises ZohoConfigError: for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_TOKEN_MARGIN_SECONDS
    margin: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        margin = value
    elif isinstance(value, float) and value.is_integer():
        margin = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        margin = int(value.strip())
    if margin is None or not 0 <= margin <= TOKEN_MARGIN_MAX_SECONDS:
        hint = " (the UI's mask: clear the field and save again)" if value == "***" else ""
        raise ZohoConfigError(
            f"{context}token_margin_seconds must be a whole number of seconds from 0 to "
            f"{TOKEN_MARGIN_MAX_SECONDS} (empty means {DEFAULT_TOKEN_MARGIN_SECONDS}), got "
            f"{_shown(value, secrets)}{hint}."
        )
    return margin
