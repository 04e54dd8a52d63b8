"""Tests for ``scripts/gen_resource_docs.py``: the resource documents follow the declarations."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import MappingProxyType

import pytest

from airflow_provider_zoho.hooks.apptics_resources import GROUP_COLUMNS, RESOURCES
from airflow_provider_zoho.schema import EXTRA, Column, schema_version

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_resource_docs.py"


@pytest.fixture(scope="module")
def docs():
    spec = importlib.util.spec_from_file_location("gen_resource_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documents_are_generated_from_the_declarations(docs):
    current = docs.DOCUMENT.read_text(encoding="utf-8")
    assert docs.render(current) == current, "run: python scripts/gen_resource_docs.py"
    assert docs.DESK_DOCUMENT.read_text(encoding="utf-8") == docs.render_desk(), "run the script"
    assert docs.main(["--check"]) == 0


def test_every_desk_column_is_documented(docs):
    from airflow_provider_zoho.hooks.desk_resources import ORGANIZATIONS
    from airflow_provider_zoho.hooks.desk_resources import RESOURCES as DESK

    text = docs.render_desk()
    for spec in (*DESK.values(), ORGANIZATIONS):
        section = text.split(f"## `{spec.name}`", 1)[1].split("\n## ", 1)[0]
        for column in spec.columns:
            null = "yes" if column.nullable else "no"
            assert f"| `{column.name}` | {column.type} | {null} | {column.description} |" in section


def test_every_column_is_documented_with_its_type_and_description(docs):
    text = docs.DOCUMENT.read_text(encoding="utf-8")
    generated = text[text.index(docs.BEGIN) : text.index(docs.END)]
    sections = {part.split("`", 2)[1]: part for part in generated.split("\n#### ")[1:]}
    assert list(sections) == list(RESOURCES)
    for resource in RESOURCES.values():
        section = sections[resource.name]
        columns = [*(GROUP_COLUMNS[e] for e in resource.group_entities), resource.dataset_columns()[-1]]
        for column in (*(columns if resource.multigroup else resource.columns), EXTRA):
            null = "yes" if column.nullable else "no"
            assert f"| `{column.name}` | {column.type} | {null} | {column.description} |" in section, (
                resource.name,
                column.name,
            )
        assert f"`{schema_version(resource.dataset_columns())}`" in section


def test_a_declaration_changed_without_the_document_is_caught(docs, monkeypatch):
    current = docs.DOCUMENT.read_text(encoding="utf-8")
    crashes = RESOURCES["crashes"]
    renamed = dataclasses.replace(
        crashes, columns=(*crashes.columns[:-1], Column("app_version_id", "int64", "now a number"))
    )
    monkeypatch.setattr(docs, "RESOURCES", MappingProxyType({**RESOURCES, "crashes": renamed}))
    changed = docs.render(current)
    assert changed != current
    assert "| `app_version_id` | int64 | yes | now a number |" in changed
    assert docs.main(["--check"]) == 1


def test_a_document_edited_by_hand_is_caught(docs, tmp_path, monkeypatch, capsys):
    edited = docs.DOCUMENT.read_text(encoding="utf-8").replace("| exception class |", "| the class |")
    copy = tmp_path / "apptics-resources.md"
    copy.write_text(edited, encoding="utf-8")
    monkeypatch.setattr(docs, "DOCUMENT", copy)
    desk = tmp_path / "desk-resources.md"
    desk.write_text(docs.render_desk(), encoding="utf-8")
    monkeypatch.setattr(docs, "DESK_DOCUMENT", desk)
    assert docs.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docs.main([]) == 0  # rewrites the generated part, keeps the hand-written one
    assert copy.read_text(encoding="utf-8") == docs.render(edited)
    assert "| exception class |" in copy.read_text(encoding="utf-8")


def test_the_markers_are_required(docs):
    with pytest.raises(ValueError, match="must hold the markers"):
        docs.render("# no markers")
    with pytest.raises(ValueError, match="must hold the markers"):
        docs.render(f"{docs.END}\n{docs.BEGIN}")
