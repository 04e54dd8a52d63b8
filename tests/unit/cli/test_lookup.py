"""``cli.lookup``: connections and Variables searched like Airflow searches them, each place remembered."""

from __future__ import annotations

import json

import pytest
from airflow.secrets.environment_variables import EnvironmentVariablesBackend
from airflow.secrets.metastore import MetastoreBackend

from airflow_provider_zoho.cli import CliError, lookup
from airflow_provider_zoho.cli.lookup import Lookup, Search
from tests.unit.cli.conftest import CACHE_VAR, BrokenBackend, DictBackend
from tests.unit.conftest import connection_json


class VaultBackend(EnvironmentVariablesBackend):
    """A custom backend built on the environment one: it reads the environment too."""


class OfflineMetastore(MetastoreBackend):
    """The metadata database's backend, without a database (unit tests have none)."""

    def get_variable(self, key):
        return None


class EnvironmentVariablesBackendLookalike:
    """A custom backend that only shares the name of Airflow's environment backend."""

    def get_variable(self, key):
        return None


@pytest.mark.parametrize(
    ("backend", "place"),
    [
        (EnvironmentVariablesBackend(), "environment variable AIRFLOW_VAR_ZOHO_OAUTH_TOKEN__ZOHO_DEFAULT"),
        (VaultBackend(), "environment variable AIRFLOW_VAR_ZOHO_OAUTH_TOKEN__ZOHO_DEFAULT"),
        (OfflineMetastore(), "metadata database"),
        (EnvironmentVariablesBackendLookalike(), "secrets backend EnvironmentVariablesBackendLookalike"),
        (DictBackend({}), "secrets backend DictBackend"),
    ],
    ids=["environment", "subclass", "metastore", "lookalike", "custom"],
)
def test_places_are_named_by_what_the_backend_is(backend, place):
    assert lookup.read_token_variable("zoho_default", [backend]).lookups == (Lookup(place, "not set"),)


def test_a_class_named_like_airflows_backend_is_not_taken_for_it():
    Impostor = type("EnvironmentVariablesBackend", (DictBackend,), {})
    found = lookup.read_token_variable("x", [Impostor({})])
    assert found.lookups == (Lookup("secrets backend EnvironmentVariablesBackend", "not set"),)


def test_the_search_stops_at_the_first_place_that_has_it(monkeypatch):
    monkeypatch.setenv(CACHE_VAR, '{"access_token": null}')
    later = DictBackend({"zoho_oauth_token__zoho_default": "never read"})
    found = lookup.read_token_variable(
        "zoho_default", [BrokenBackend(), EnvironmentVariablesBackend(), later]
    )
    env = "environment variable AIRFLOW_VAR_ZOHO_OAUTH_TOKEN__ZOHO_DEFAULT"
    assert found == Search(
        '{"access_token": null}',
        env,
        (
            Lookup("secrets backend BrokenBackend", "unavailable (RuntimeError: vault sealed)"),
            Lookup(env, "found"),
        ),
    )


def test_nothing_found_lists_every_place():
    found = lookup.find_connection("nope", [BrokenBackend(), EnvironmentVariablesBackend()])
    assert found == Search(
        None,
        None,
        (
            Lookup("secrets backend BrokenBackend", "unavailable (RuntimeError: vault sealed)"),
            Lookup("environment variable AIRFLOW_CONN_NOPE", "not set"),
        ),
    )


def test_a_long_backend_error_is_cut_to_one_short_line():
    class Chatty(DictBackend):
        def get_variable(self, key):
            raise OSError("x" * 500 + "\nsecond line")

    (only,) = lookup.read_token_variable("c", [Chatty({})]).lookups
    assert only.result == f"unavailable (OSError: {'x' * 157}...)"


def test_connection_settings_validates_like_the_hook(monkeypatch):
    monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_EU", connection_json(extra={"data_center": ".EU", "accounts_url": None})
    )
    settings, place = lookup.connection_settings("zoho_eu")
    assert (settings.data_center, settings.accounts_url) == ("eu", "https://accounts.zoho.eu")
    assert place == "environment variable AIRFLOW_CONN_ZOHO_EU"


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        (
            None,
            "connection 'zoho_x' not found (searched environment variable AIRFLOW_CONN_ZOHO_X: not set). ",
        ),
        (
            connection_json(extra={"portal_id": "12a"}),
            "portal_id must be a number made of the digits 0-9 only, got '12a'",
        ),
    ],
    ids=["missing", "invalid"],
)
def test_connection_settings_errors_are_usage_errors(monkeypatch, conn, message):
    monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
    if conn is not None:
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_X", conn)
    with pytest.raises(CliError) as error:
        lookup.connection_settings("zoho_x")
    assert message in str(error.value)
    assert error.value.exit_code == 2
    if conn is not None:
        assert str(error.value).endswith("(connection from environment variable AIRFLOW_CONN_ZOHO_X)")
    else:
        assert str(error.value).endswith("or set AIRFLOW_CONN_ZOHO_X.")


def test_the_connection_value_is_what_the_backend_returned(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json())
    found = lookup.find_connection("zoho_default", [EnvironmentVariablesBackend()])
    assert found.value.login == json.loads(connection_json())["login"]
