"""
Where connections and Variables come from: Airflow's secrets backends, searched in order.

``auth check`` and ``token status`` read connections and Variables like ``airflow connections test`` does
(see :func:`~airflow_provider_zoho.cli.prepare_airflow`): a custom secrets backend, environment variables,
then the metadata database. The search here remembers each place it looked and what it found there, so a
missing connection or token cache says where it was looked for. It only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.cli import PROG, CliError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings


@dataclass(frozen=True)
class Lookup:
    """
    Where something was looked for and what was found there.

    :param place: e.g. ``metadata database``.
    :param result: ``found``, ``not set`` or ``unavailable (...)``.
    """

    place: str
    result: str


@dataclass(frozen=True)
class Search:
    """
    What a search of the secrets backends found.

    :param value: the value found, ``None`` when no backend had it.
    :param place: where it was found.
    :param lookups: every place searched, in order.
    """

    value: Any = None
    place: str | None = None
    lookups: tuple[Lookup, ...] = ()


def secrets_backends() -> list[Any]:
    """The secrets backends Airflow searches outside a task, in order: custom, environment, metadata DB."""
    from airflow.configuration import ensure_secrets_loaded

    return list(ensure_secrets_loaded())


def describe_place(backend: Any, env_var: str) -> str:
    """
    Name the place a secrets backend reads, e.g. ``environment variable AIRFLOW_CONN_ZOHO_DEFAULT``.

    :param backend: a secrets backend instance.
    :param env_var: the environment variable Airflow's environment backend reads for the key looked up.
    """
    from airflow.secrets.environment_variables import EnvironmentVariablesBackend
    from airflow.secrets.metastore import MetastoreBackend

    if isinstance(backend, EnvironmentVariablesBackend):
        return f"environment variable {env_var}"
    if isinstance(backend, MetastoreBackend):
        return "metadata database"
    return f"secrets backend {type(backend).__name__}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _search(backends: Sequence[Any], method: str, key: str, env_var: str) -> Search:
    lookups: list[Lookup] = []
    for backend in backends:
        place = describe_place(backend, env_var)
        try:
            value = getattr(backend, method)(key)
        except Exception as error:  # a backend that cannot be read is reported, not fatal
            lookups.append(Lookup(place, f"unavailable ({_first_line(error)})"))
            continue
        if value is not None:
            lookups.append(Lookup(place, "found"))
            return Search(value, place, tuple(lookups))
        lookups.append(Lookup(place, "not set"))
    return Search(lookups=tuple(lookups))


def connection_env_var(conn_id: str) -> str:
    """The environment variable Airflow reads ``conn_id`` from, e.g. ``AIRFLOW_CONN_ZOHO_DEFAULT``."""
    from airflow.secrets.environment_variables import CONN_ENV_PREFIX

    return f"{CONN_ENV_PREFIX}{conn_id.upper()}"


def find_connection(conn_id: str, backends: Sequence[Any] | None = None) -> Search:
    """
    Look ``conn_id`` up in each secrets backend in turn, as Airflow does, remembering where it looked.

    :param conn_id: the connection id.
    :param backends: the backends to search (default: :func:`secrets_backends`).
    :return: the connection (``value``, ``None`` when absent), where it came from and every place searched.
    """
    if backends is None:
        backends = secrets_backends()
    return _search(backends, "get_connection", conn_id, connection_env_var(conn_id))


def read_token_variable(conn_id: str, backends: Sequence[Any] | None = None) -> Search:
    """
    Read the token-cache Variable of ``conn_id`` from each secrets backend in turn (read-only).

    :param conn_id: the connection id.
    :param backends: the backends to search (default: :func:`secrets_backends`).
    :return: the raw value (``None`` when absent), where it came from and every place searched.
    """
    from airflow.secrets.environment_variables import VAR_ENV_PREFIX

    from airflow_provider_zoho.hooks.token_cache import variable_key

    if backends is None:
        backends = secrets_backends()
    key = variable_key(conn_id)
    return _search(backends, "get_variable", key, f"{VAR_ENV_PREFIX}{key.upper()}")


def connection_settings(conn_id: str) -> tuple[ZohoConnectionSettings, str]:
    """
    Find ``conn_id`` and validate it as the hook does.

    :param conn_id: the connection id.
    :return: the validated connection and where it came from.
    :raises CliError: (usage) when it is found nowhere (saying where it looked) or is invalid (naming the
        field, as the hook would, and where the connection came from).
    """
    from airflow_provider_zoho.exceptions import ZohoConfigError
    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings

    found = find_connection(conn_id)
    if found.value is None:
        searched = "; ".join(f"{lookup.place}: {lookup.result}" for lookup in found.lookups)
        raise CliError(
            f"connection {conn_id!r} not found (searched {searched}). Create it with the command "
            f"'{PROG} auth exchange' prints, or set {connection_env_var(conn_id)}."
        )
    try:
        settings = ZohoConnectionSettings.from_connection(found.value)
    except ZohoConfigError as error:
        raise CliError(f"{error} (connection from {found.place})") from None
    return settings, str(found.place)
