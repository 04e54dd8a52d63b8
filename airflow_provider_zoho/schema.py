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

The files of a dataset hold the declared columns, in order, then :data:`EXTRA`: the fields a record has
that are not declared, as one JSON object (``null`` when there are none), so nothing the source adds is lost
and the schema stays the same in every file (:func:`file_columns`, :func:`schema_version`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

COLUMN_TYPES = ("string", "int64", "float64", "bool", "date", "timestamp", "json")

_NAME = re.compile(r"[a-z][a-z0-9_]*")


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
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(f"column {self.name!r}: a name is snake_case (a-z, 0-9 and _, a letter first)")
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


#: The last column of every file: the record's fields that are not declared, as one JSON object.
EXTRA = Column(
    "extra", "json", "the fields the source sent that are not declared, as a JSON object; null when none"
)


def file_columns(columns: Iterable[Column]) -> tuple[Column, ...]:
    """
    The columns of a dataset's files: the declared columns, in order, then :data:`EXTRA`.

    :param columns: the declared columns.
    :raises ValueError: for a schema no file can have: no columns, a name used twice, or a declared
        column named ``extra``.
    """
    declared = tuple(columns)
    if not declared:
        raise ValueError("a schema needs at least one declared column")
    names = column_names(declared)
    if EXTRA.name in names:
        raise ValueError(f"column {EXTRA.name!r} is reserved for the fields that are not declared")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"columns declared twice: {', '.join(repeated)}")
    return (*declared, EXTRA)


def schema_version(columns: Iterable[Column]) -> str:
    """
    The fingerprint of the files' schema (the declared columns and :data:`EXTRA`), for manifests.

    :param columns: the declared columns.
    """
    return fingerprint(file_columns(columns))
