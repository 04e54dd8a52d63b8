"""
Declared record schemas: the columns a resource's records have, in order, with their types.

A resource declares its columns once (in its catalog) and everything that needs them derives from that
declaration: how record values are normalized, the files' schema (Parquet types, CSV header, JSON Lines
key order) and the documentation. This module is neutral: it knows types, not Zoho.

Column types:

========== ===================================== ===========================================
type       meaning                               record value (JSON)
========== ===================================== ===========================================
string     ids, names, labels                    text (ids: the API's numbers as text)
int64      counts and other whole numbers        integer
float64    rates and other real numbers          number
bool       flags                                 ``true`` / ``false``
date       a calendar day                        ``YYYY-MM-DD``
timestamp  an instant, UTC, millisecond precision ISO-8601 with ``Z``
json       a nested object or list               the JSON value as sent
========== ===================================== ===========================================
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

COLUMN_TYPES = ("string", "int64", "float64", "bool", "date", "timestamp", "json")


@dataclass(frozen=True)
class Column:
    """
    One declared column of a resource's records.

    :param name: the record field (snake_case).
    :param type: one of :data:`COLUMN_TYPES`.
    :param description: what the column holds, in one line.
    :param nullable: whether the value may be missing (``null``).
    """

    name: str
    type: str
    description: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}; use one of {COLUMN_TYPES}")

    @property
    def is_id(self) -> bool:
        """Whether the column is an identifier (``id`` or ``*_id``): kept as text whatever the API sends."""
        return self.type == "string" and (self.name == "id" or self.name.endswith("_id"))


def column_names(columns: Iterable[Column]) -> tuple[str, ...]:
    """The names of ``columns``, in order."""
    return tuple(column.name for column in columns)


def fingerprint(columns: Iterable[Column]) -> str:
    """
    A short, stable fingerprint of a schema: names, types and nullability in order (not descriptions).

    :param columns: the declared columns.
    :return: 16 hex digits; equal schemas give equal fingerprints on every machine and version.
    """
    shape = [[column.name, column.type, column.nullable] for column in columns]
    return hashlib.sha256(json.dumps(shape, separators=(",", ":")).encode()).hexdigest()[:16]
