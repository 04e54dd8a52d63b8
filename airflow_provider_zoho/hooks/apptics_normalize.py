"""
Value and key normalization shared by the Apptics resource catalog (and the Zoho Desk one).

Pure helpers: no I/O, no Airflow, no per-record regular expressions. Key conversion and timestamp
formatting are cached, and :class:`RowMapper` precomputes, per row layout, which API key feeds which
record field and how its value is converted, so a page of rows costs a handful of dict operations per row.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoAPIError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@lru_cache(maxsize=4096)
def snake_case(key: str) -> str:
    """
    Turn an Apptics key into snake_case.

    Stray whitespace is stripped, runs of spaces and punctuation become ``_`` and camel case is split with
    acronyms kept whole: ``"EVENTS NAME "`` -> ``events_name``, ``"UniqueMessageID"`` ->
    ``unique_message_id``, ``"OSVersion"`` -> ``os_version``, ``"ActiveDevices COUNT"`` ->
    ``active_devices_count``. Cached: each distinct key is converted once per process.

    :param key: the key as the API sent it.
    :return: the snake_case key (the stripped key, lower-cased, if nothing alphanumeric is left to split).
    """
    words = _NON_ALNUM.sub("_", key.strip())
    words = _ACRONYM_WORD.sub(r"\1_\2", _LOWER_UPPER.sub(r"\1_\2", words))
    return words.strip("_").lower() or key.strip().lower()


def format_api_date(value: date) -> str:
    """
    Format a date the way Apptics expects it in ``startdate``/``enddate``.

    :param value: the date.
    :return: the date as ``dd-MM-yyyy``.
    """
    return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"


def is_api_date(value: str) -> bool:
    """
    Tell whether a string is an Apptics ``dd-MM-yyyy`` date.

    :param value: the string to check.
    :return: ``True`` for ten characters ``dd-MM-yyyy`` with digits where digits belong.
    """
    return (
        len(value) == 10
        and value[2] == "-"
        and value[5] == "-"
        and value[:2].isdigit()
        and value[3:5].isdigit()
        and value[6:].isdigit()
        and value.isascii()
    )


def api_date_to_iso(value: str) -> str:
    """
    Rewrite an Apptics ``dd-MM-yyyy`` date as ISO ``YYYY-MM-DD``; any other string is returned unchanged.

    :param value: the date as the API sent it.
    :return: the ISO date, or ``value`` itself when it is not a ``dd-MM-yyyy`` date.
    """
    if is_api_date(value):
        return f"{value[6:]}-{value[3:5]}-{value[:2]}"
    return value


@lru_cache(maxsize=16384)
def _epoch_ms_to_iso(ms: int) -> str:
    moment = _EPOCH + timedelta(seconds=ms // 1000)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def epoch_ms_to_iso(value: float | str) -> str:
    """
    Format an epoch-milliseconds timestamp as ISO-8601 UTC, truncated to the second.

    :param value: milliseconds since 1970-01-01 UTC, as a number or a string of digits.
    :return: ``YYYY-MM-DDTHH:MM:SSZ``.
    :raises ValueError: if ``value`` is not a whole number of milliseconds.
    """
    if isinstance(value, str):
        return _epoch_ms_to_iso(int(value))
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not a whole number of milliseconds: {value!r}")
        value = int(value)
    return _epoch_ms_to_iso(value)


def to_temporal(value: Any) -> Any:
    """
    Normalize a timestamp or date value as Apptics sends them.

    Epoch milliseconds (a number, or a string of digits) become ``YYYY-MM-DDTHH:MM:SSZ``; ``dd-MM-yyyy``
    becomes ``YYYY-MM-DD``; anything else (``None``, other date spellings) is returned as sent.

    :param value: the value as the API sent it.
    :return: the normalized value.
    """
    kind = type(value)
    if kind is int:
        return _epoch_ms_to_iso(value)
    if kind is str:
        if value.isdigit() and value.isascii():
            return _epoch_ms_to_iso(int(value))
        return api_date_to_iso(value)
    if kind is float and value.is_integer():
        return _epoch_ms_to_iso(int(value))
    return value


class ValueConversionError(ValueError):
    """A value the API sent cannot be converted to the type its field requires."""


def to_count(value: Any) -> int | None:
    """
    Turn a count as the API sends it (``12``, ``"12"``, ``12.0``) into an ``int``.

    :param value: the count as sent; ``None`` and ``""`` mean "no value" and give ``None``.
    :return: the count.
    :raises ValueConversionError: if the value is not a whole number.
    """
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        try:
            return int(value)  # also strips surrounding whitespace
        except ValueError:
            return _text_count(value)
    if value is None:
        return None
    if kind is float and value.is_integer():
        return int(value)
    raise ValueConversionError(f"{value!r} is not a count")


def _text_count(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise ValueConversionError(f"{value!r} is not a count")
    return int(number)


def to_id(value: Any) -> str | None:
    """
    Turn an identifier as the API sends it (a number or a string) into a string.

    :param value: the id as sent; ``None`` stays ``None``.
    :return: the id as a string (``734000000001`` -> ``"734000000001"``).
    """
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is float and value.is_integer():
        return str(int(value))
    return str(value)


class RowMapper:
    """
    Map API rows (JSON objects) to records with a fixed field order.

    Keys are looked up by their snake_case form in ``key_map`` (so ``HappendAt`` and ``happendAt`` map
    alike); record fields come first in ``fields`` order (``None`` when a row lacks one), then unknown
    keys, snake_cased, in the order the API sent them. When two keys of one row map to the same field, the
    later one is kept under its own snake_case name, so nothing is dropped.

    Speed: the work is planned once per row layout (the tuple of a row's keys; all rows of a page share
    one in practice): which API key feeds which field and which converter applies. Building a record is
    then a template copy, one ``update`` and the conversions.

    :param resource: the resource name, for error messages.
    :param fields: the record fields, in record order.
    :param key_map: snake_case API key -> record field; a record field also maps to itself.
    :param converters: record field -> converter (counts, ids, timestamps); each takes ``None`` to
        ``None`` and raises ``ValueError`` on a value it cannot convert. Other values pass through.
    :param context_fields: record fields the caller fills from the request (``platform``, ``crash_id``);
        they keep their place in ``fields``, but a row key of the same name is kept as ``<name>_2``.
    :param product: the product named in error messages.
    """

    _MAX_LAYOUTS = 256

    def __init__(
        self,
        resource: str,
        fields: Iterable[str],
        key_map: Mapping[str, str],
        converters: Mapping[str, Callable[[Any], Any]] | None = None,
        context_fields: Iterable[str] = (),
        product: str = "Apptics",
    ) -> None:
        self.resource = resource
        self.product = product
        self.fields: tuple[str, ...] = tuple(fields)
        self._context = frozenset(context_fields)
        self._key_map = {
            **{field: field for field in self.fields if field not in self._context},
            **key_map,
        }
        self._converters = dict(converters or {})
        self._position = {field: index for index, field in enumerate(self.fields)}
        self._builders: dict[tuple[str, ...], Callable[[dict], dict[str, Any]]] = {}

    def field_names(self, keys: Iterable[str]) -> list[str]:
        """
        Resolve the record field of each API key, in the order given.

        :param keys: API keys, in the order the API sent them.
        :return: one record field per key; duplicates resolved as described on the class.
        """
        taken = set(self._context)
        names = []
        for key in keys:
            snake = snake_case(key)
            name = self._key_map.get(snake, snake)
            if name in taken:
                name = snake
            base, suffix = name, 2
            while name in taken:
                name, suffix = f"{base}_{suffix}", suffix + 1
            taken.add(name)
            names.append(name)
        return names

    def _columns(self, layout: tuple[str, ...]) -> list[tuple[str, str | None]]:
        """Return ``(record field, API key or None)`` in record order for one row layout."""
        if not all(type(key) is str for key in layout):
            raise ZohoAPIError(
                f"{self.product} resource {self.resource!r}: row keys must be strings: {layout!r}"
            )
        by_field = dict(zip(self.field_names(layout), layout, strict=True))
        columns: list[tuple[str, str | None]] = [(field, by_field.pop(field, None)) for field in self.fields]
        columns.extend(by_field.items())
        return columns

    def _builder(self, layout: tuple[str, ...]) -> Callable[[dict], dict[str, Any]]:
        builder = _builder(self._columns(layout), self._converters)
        if len(self._builders) >= self._MAX_LAYOUTS:
            self._builders.clear()
        self._builders[layout] = builder
        return builder

    def __call__(self, row: Any) -> dict[str, Any]:
        """
        Map one row.

        :param row: one JSON object of the API's answer.
        :return: the record.
        :raises ZohoAPIError: if the row is not a JSON object or a value cannot be converted.
        """
        return self.map_rows((row,))[0]

    def map_rows(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        """
        Map the rows of one page, in order.

        :param rows: the JSON objects of the API's answer.
        :return: one record per row.
        :raises ZohoAPIError: if a row is not a JSON object or a value cannot be converted.
        """
        records: list[dict[str, Any]] = []
        append = records.append
        builders = self._builders
        layout: tuple[str, ...] | None = None
        build: Callable[[dict], dict[str, Any]] = _no_builder
        row: Any = None
        try:
            for row in rows:
                if type(row) is not dict:
                    raise ZohoAPIError(
                        f"{self.product} resource {self.resource!r}: expected each row to be a JSON object, "
                        f"got {type(row).__name__} {snippet(row)}"
                    )
                keys = tuple(row)
                if keys != layout:
                    layout = keys
                    build = builders.get(keys) or self._builder(keys)
                append(build(row))
        except ValueError:
            raise self._conversion_error(row) from None
        return records

    def _conversion_error(self, row: dict[str, Any]) -> ZohoAPIError:
        """Name the field of ``row`` whose value could not be converted (slow path, errors only)."""
        for field, key in self._columns(tuple(row)):
            convert = self._converters.get(field)
            if convert is not None and key is not None:
                try:
                    convert(row[key])
                except ValueError as err:
                    return ZohoAPIError(
                        f"{self.product} resource {self.resource!r}: field {field!r} (API key {key!r}) "
                        f"has an unusable value: {err}"
                    )
        return ZohoAPIError(f"{self.product} resource {self.resource!r}: unusable row {snippet(row)}")


def _no_builder(row: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError("unreachable: the first row always selects a builder")


def _builder(
    columns: list[tuple[str, str | None]], converters: Mapping[str, Callable[[Any], Any]]
) -> Callable[[dict], dict[str, Any]]:
    """
    Return ``build(row) -> record`` for one row layout (``columns`` in record order).

    The function is generated: one dict display, ``{field: convert(row[key]), field: row[key], field:
    None, ...}``, which builds a record in half the time of a loop over the columns (records are built
    hundreds of thousands of times per run). Its source holds only names made here (``f0``, ``k0``,
    ``c0``...); the fields, API keys and converters they stand for are passed as values, never as text.
    """
    namespace: dict[str, Any] = {}
    items = []
    for index, (field, key) in enumerate(columns):
        namespace[f"f{index}"] = field
        if key is None:
            items.append(f"f{index}: None")
            continue
        namespace[f"k{index}"] = key
        value = f"row[k{index}]"
        if field in converters:
            namespace[f"c{index}"] = converters[field]
            value = f"c{index}({value})"
        items.append(f"f{index}: {value}")
    exec(f"def build(row):\n    return {{{', '.join(items)}}}\n", namespace)  # noqa: S102
    return namespace["build"]


def snippet(value: Any, size: int = 120) -> str:
    """A short ``repr`` of ``value`` for error messages (at most ``size`` characters and an ellipsis)."""
    text = repr(value)
    return text if len(text) <= size else f"{text[:size]}..."
