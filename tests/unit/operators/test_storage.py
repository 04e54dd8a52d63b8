"""Unit tests for the storage contract: what a partition's keys may be, and the lineage of a run."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.operators.storage import (
    EVENT_FIELDS,
    BaseZohoToStorageOperator,
    Extraction,
    openlineage_name,
)
from airflow_provider_zoho.schema import EXTRA, Column

WINDOW = (("start", "2026-03-07"), ("end", "2026-03-07"))


def test_identity_levels_precede_the_window():
    extraction = Extraction(WINDOW, [], identity=(("group", "country"), ("platforms", "iOS")))
    assert extraction.keys == (("group", "country"), ("platforms", "iOS"), *WINDOW)


@pytest.mark.parametrize(
    ("identity", "clash"),
    [
        ((("start", "x"),), "the window's 'start' level"),
        ((("END", "x"),), "the window's 'end' level"),
        ((("records", "7"),), "the asset event's 'records' field"),
        ((("path", "/x"),), "the asset event's 'path' field"),
        ((("bundle", "a"), ("Bundle", "b")), "the parameter 'bundle'"),
    ],
    ids=["start", "end-any-case", "records", "path", "twice-any-case"],
)
def test_identity_names_never_clash_with_another_key(identity, clash):
    with pytest.raises(ZohoConfigError, match="cannot be part of the partition's path") as error:
        Extraction(WINDOW, [], identity=identity)
    assert f"it clashes with {clash}" in str(error.value)


def test_every_event_field_is_reserved():
    for field in EVENT_FIELDS:
        with pytest.raises(ZohoConfigError, match=field):
            Extraction(WINDOW, [], identity=((field, "x"),))


# -- lineage -----------------------------------------------------------------------------------------------


COLUMNS = (
    Column("id", "string", "the thing's id", nullable=False),
    Column("count", "int64", "how many"),
)


class Things(BaseZohoToStorageOperator):
    """The smallest product operator: two partitions (a window and a lookback) of a ``things`` dataset."""

    folder = "things"
    hook = types.SimpleNamespace(api_calls=0)

    def extractions(self, context):
        return [
            Extraction(WINDOW, [{"id": "a", "count": 1}, {"id": "b", "count": 2}], columns=COLUMNS),
            Extraction(LOOKBACK, [{"id": "c", "count": None, "note": "undeclared"}], columns=COLUMNS),
        ]

    def lineage_inputs(self):
        return [("zoho-things://com/7", "things")]


LOOKBACK = (("start", "2026-03-06"), ("end", "2026-03-06"))


@pytest.fixture
def openlineage():
    return pytest.importorskip("airflow.providers.openlineage", reason="no openlineage provider")


@pytest.fixture(scope="module")
def all_models():
    """Every ORM model imported (as in test_apptics.py: writing through ObjectStoragePath loads plugins)."""
    from airflow.models import import_all_models

    import_all_models()


class TestLineage:
    def test_inputs_output_schema_and_statistics_of_what_was_written(self, openlineage, all_models, tmp_path):
        op = Things(task_id="extract", destination=tmp_path.as_uri())
        op.execute({})
        lineage = op.get_openlineage_facets_on_complete(None)

        assert [(d.namespace, d.name) for d in lineage.inputs] == [("zoho-things://com/7", "things")]
        (output,) = lineage.outputs
        assert (output.namespace, output.name) == ("file", f"{tmp_path}/things")
        fields = [(f.name, f.type, f.description) for f in output.facets["schema"].fields]
        assert fields == [
            ("id", "string", "the thing's id"),
            ("count", "int64", "how many"),
            ("extra", "json", EXTRA.description),
        ]
        files = sorted((tmp_path / "things").rglob("data.jsonl"))
        assert len(files) == 2
        statistics = output.outputFacets["outputStatistics"]
        assert statistics.rowCount == 3  # both partitions
        assert statistics.size == sum(file.stat().st_size for file in files)
        assert statistics.fileCount == 2

    def test_before_any_run_only_the_datasets(self, openlineage, tmp_path):
        op = Things(task_id="extract", destination=str(tmp_path))
        lineage = op.get_openlineage_facets_on_complete(None)
        (output,) = lineage.outputs
        assert (output.namespace, output.name, output.facets) == ("file", f"{tmp_path}/things", {})
        assert not output.outputFacets

    @pytest.mark.parametrize(
        ("uri", "expected"),
        [
            ("file:///data/zoho/crashes", ("file", "/data/zoho/crashes")),
            ("/data/zoho/crashes", ("file", "/data/zoho/crashes")),
            ("local:///data/zoho/crashes", ("file", "/data/zoho/crashes")),
            ("s3://lake/zoho/crashes", ("s3://lake", "zoho/crashes")),
            ("s3://lake/crashes", ("s3://lake", "crashes")),
            ("hdfs://namenode:8020/zoho/crashes", ("hdfs://namenode:8020", "zoho/crashes")),
        ],
    )
    def test_openlineage_names_storage_as_openlineage_does(self, openlineage, uri, expected):
        assert openlineage_name(uri) == expected


def test_the_operators_do_not_import_openlineage():
    """Parse-time cost, and Airflow without the openlineage provider: only the lineage method imports it."""
    code = (
        "import sys\n"
        "import airflow.providers.common.compat.sdk\n"  # Airflow's own imports, before the provider's
        "before = set(sys.modules)\n"
        "import airflow_provider_zoho.operators.apptics, airflow_provider_zoho.operators.desk\n"
        "print(sorted(m for m in set(sys.modules) - before if 'openlineage' in m))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
