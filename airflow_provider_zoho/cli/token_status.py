"""
``token status``: describe the shared access-token cache of a connection, never the token.

The cache is the Variable ``zoho_oauth_token__<conn_id>``, read from every place Airflow reads Variables
(:mod:`~airflow_provider_zoho.cli.lookup`); this only reads. Its value is parsed by the cache's own parser
and judged by the cache's own rule (``AccessToken.usable`` with the connection's margin), so the status
shows what a task would make of it, including what a task would ignore: expiry, seconds left,
``api_domain``, lease holder, and every place it looked.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.cli import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    add_conn_id,
    prepare_airflow,
    required,
)
from airflow_provider_zoho.cli.lookup import Search, connection_settings, read_token_variable

if TYPE_CHECKING:
    import argparse

    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings


#: The one-line help of ``token status``.
HELP = "show the cached access token's state (never the token)"
#: What ``token status --help`` says first.
DESCRIPTION = (
    "Show the state of the access-token cache of a connection (the Airflow Variable "
    "zoho_oauth_token__<conn id>): expiry, seconds left, api_domain, lease holder and where it was "
    "found. The token itself is never shown. Read-only."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the options of ``token status``.

    :param parser: the command's parser.
    """
    add_conn_id(parser)
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


@dataclass(frozen=True)
class ConnectionRead:
    """
    The connection whose cache is shown: its settings and where they came from, or why it is not usable.

    :param settings: the validated connection, ``None`` when it could not be read.
    :param place: where it was found.
    :param error: why it could not be read.
    """

    settings: ZohoConnectionSettings | None = None
    place: str | None = None
    error: str | None = None

    @property
    def margin_seconds(self) -> int:
        """The refresh margin tasks hold tokens to: the connection's, else the default of an empty one."""
        from airflow_provider_zoho.hooks.zoho_connection import DEFAULT_TOKEN_MARGIN_SECONDS

        return self.settings.token_margin_seconds if self.settings else DEFAULT_TOKEN_MARGIN_SECONDS


def _utc_text(epoch: float) -> str:
    try:
        return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{epoch:.6g} (epoch seconds, not a date)"


def cache_status(conn_id: str, variable: Search, connection: ConnectionRead, *, now: float) -> dict[str, Any]:
    """
    Describe the token-cache Variable for display; the access token itself never enters the result.

    The value is read by the cache's own parser (``parse_record``) and judged by the cache's own rule
    (``AccessToken.usable`` with the connection's margin), so this shows what a task would make of it,
    including what it would ignore.

    :param conn_id: the connection id.
    :param variable: the search for the Variable (its value is ``None`` when absent).
    :param connection: the connection, or why it could not be read.
    :param now: the current time, epoch seconds.
    """
    from airflow_provider_zoho.hooks.token_cache import TokenCache, parse_record, variable_key

    margin_seconds = connection.margin_seconds
    status: dict[str, Any] = {
        "conn_id": conn_id,
        "variable": variable_key(conn_id),
        "found_in": variable.place,
        "looked_in": [{"place": lookup.place, "result": lookup.result} for lookup in variable.lookups],
        "connection": {"found_in": connection.place, "error": connection.error},
        "margin_seconds": margin_seconds,
    }
    if connection.settings is not None:
        status["connection"].update(
            data_center=connection.settings.data_center, accounts_url=connection.settings.accounts_url
        )
    record = parse_record(variable.value)
    ignored = {field for field, _ in record.problems}
    token, lease = record.token, record.lease
    if variable.place is None:
        unreadable = any(lookup.result.startswith("unavailable") for lookup in variable.lookups)
        state = "unknown" if unreadable else "absent"
    elif "value" in ignored:
        state = "unreadable"
    elif token is None:
        state = "invalid" if ignored & {"access_token", "expires_at"} else "none"
    elif not token.usable(0, now):  # not even without a margin
        state = "expired"
    elif not token.usable(margin_seconds, now):
        state = "expiring"
    else:
        state = "valid"
    status["state"] = state
    status["ignored"] = [{"field": field, "problem": problem} for field, problem in record.problems]
    status["expires_at"] = _utc_text(token.expires_at) if token else None
    status["seconds_left"] = int(token.expires_at - now) if token else None
    status["margin_in_force"] = token.margin_in_force(margin_seconds) if token else None
    status["refreshed_at"] = _utc_text(token.refreshed_at) if token and token.refreshed_at else None
    status["api_domain"] = token.api_domain if token else None
    status["lease"] = (
        None
        if lease is None
        else {
            "owner": lease.owner,
            "until": _utc_text(lease.until),
            "seconds_left": int(lease.until - now),
            "active": lease.until > now,
        }
    )
    status["lease_seconds"] = TokenCache.lease_seconds
    return status


_STATE_TEXT = {
    "absent": "no cache yet: the Variable does not exist (the next task that needs a token creates it)",
    "unknown": "not found, but a place above could not be read: a cached token may exist there",
    "unreadable": "the Variable's value is not a JSON object; tasks ignore it and the next one rewrites it",
    "invalid": "the cached token is not valid (see 'ignored'); tasks ignore it and the next one mints one",
    "none": "no token cached (it was dropped or never stored); the next task mints one",
    "expired": "cached token expired; the next task mints a new one",
    "expiring": "cached token is inside the refresh margin; the next task mints a new one",
    "valid": "a usable token is cached (value not shown)",
}


def _lease_text(status: dict[str, Any]) -> str:
    lease = status["lease"]
    if lease is None:
        if any(item["field"] == "lease" for item in status["ignored"]):
            return "unreadable (see 'ignored'); tasks treat it as no lease, the next one takes over"
        return "none (nobody is minting a token)"
    if not lease["active"]:
        return f"expired, last held by {lease['owner']!r} (the next task takes over)"
    text = f"held by {lease['owner']!r} until {lease['until']} ({lease['seconds_left']} s left)"
    if lease["seconds_left"] > status["lease_seconds"]:
        text += f"; tasks wait at most {status['lease_seconds']:.0f} s for it unless its holder renews it"
    return text


def format_status(status: dict[str, Any], *, airflow_3: bool) -> str:
    """
    Render :func:`cache_status` as aligned text.

    :param status: the status.
    :param airflow_3: whether this runs on Airflow 3 (where this process cannot write the cache).
    """
    rows: list[tuple[str, str]] = []
    connection = status["connection"]
    if connection.get("error"):
        rows.append(("connection", f"not usable: {connection['error']}"))
    else:
        rows += [
            ("connection", f"{status['conn_id']} (from {connection['found_in']})"),
            ("data center", str(connection.get("data_center"))),
            ("accounts URL", str(connection.get("accounts_url"))),
        ]
    rows.append(("cache", f"Variable {status['variable']}"))
    for index, lookup in enumerate(status["looked_in"]):
        rows.append(("looked in" if index == 0 else "", f"{lookup['place']}: {lookup['result']}"))
    if not status["looked_in"]:
        rows.append(("looked in", "no secrets backend is configured"))
    rows.append(("state", _STATE_TEXT[status["state"]]))
    for index, item in enumerate(status["ignored"]):
        rows.append(("ignored" if index == 0 else "", f"{item['field']} {item['problem']}"))
    if status["expires_at"]:
        left = status["seconds_left"]
        when = f"in {left} s" if left > 0 else f"{-left} s ago"
        rows.append(
            (
                "expires at",
                f"{status['expires_at']} ({when}; replaced {status['margin_in_force']:.0f} s early)",
            )
        )
    if status["refreshed_at"]:
        rows.append(("refreshed at", status["refreshed_at"]))
    if status["api_domain"]:
        rows.append(("api_domain", status["api_domain"]))
    if status["state"] not in ("absent", "unknown", "unreadable"):
        rows.append(("lease", _lease_text(status)))
    width = max(len(label) for label, _ in rows)
    lines = [f"Zoho access-token cache of connection {status['conn_id']!r}"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    if airflow_3:
        lines.append(
            "  (read-only: outside a running task Airflow 3 cannot write Variables, so commands run here "
            "never update this cache)"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """
    ``token status``: show the token cache; exit 2 when the connection itself cannot be read.

    :param args: the parsed arguments.
    """
    conn_id = required(args.conn_id, "--conn-id")
    prepare_airflow(verbose=args.verbose)
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    try:
        settings, place = connection_settings(conn_id)
        connection = ConnectionRead(settings, place)
    except CliError as error:
        connection = ConnectionRead(error=str(error))
    status = cache_status(conn_id, read_token_variable(conn_id), connection, now=time.time())
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(format_status(status, airflow_3=AIRFLOW_V_3_0_PLUS))
    return EXIT_USAGE if connection.error else EXIT_OK
