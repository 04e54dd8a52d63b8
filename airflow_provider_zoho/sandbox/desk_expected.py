"""
The Desk test oracle: the tidy records a correct client extracts, computed from the model alone.

For ``tickets`` and ``contacts``: one record per row of the search answer (the rows that carry
``modifiedTime`` and ``cf``) whose ``modifiedTime`` lies in the half-open window
``[modified_from, modified_to)``, in ``(modified_time, id)`` order, whatever the search cap, the inclusive
or exclusive end of ``modifiedTimeRange`` or the search lag. For ``departments`` and ``agents``: the whole
snapshot, in list order; the window does not apply.

Normalization (the contract a client implements too): keys in snake_case, camel case split with acronyms
kept whole (``modifiedTime`` -> ``modified_time``, ``customFields`` -> ``custom_fields``, ``photoURL`` ->
``photo_url``, ``zohoCRMContact`` -> ``zoho_crm_contact``), in the order the API sends them; ``id`` and every
key ending in ``Id`` a string (or null); every key ending in ``Count`` an integer (Desk sends ``"3"``);
every key ending in ``Time``, and ``dueDate`` and ``responseDueDate``, an ISO-8601 UTC instant with
milliseconds (``2026-03-10T05:00:00.000Z``); ``cf`` and ``customFields`` kept as JSON objects; any other
value, nested objects included, as sent.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.sandbox.desk_model import INCREMENTAL, SNAPSHOTS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_zoho.sandbox.desk_model import DeskBurst, DeskModel

DESK_RESOURCES = (*INCREMENTAL, *SNAPSHOTS)
_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_EXTRA_TIMES = frozenset({"dueDate", "responseDueDate"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def snake_case(key: str) -> str:
    return _LOWER_UPPER.sub(r"\1_\2", _ACRONYM_WORD.sub(r"\1_\2", key)).lower()


def _instant(value: str) -> str:
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def tidy(row: dict[str, Any]) -> dict[str, Any]:
    """One Desk row as a tidy record (the rules above)."""
    record: dict[str, Any] = {}
    for key, value in row.items():
        if value is not None:
            if key == "id" or key.endswith("Id"):
                value = str(value)
            elif key.endswith("Count"):
                value = int(value)
            elif key.endswith("Time") or key in _EXTRA_TIMES:
                value = _instant(value)
        record[snake_case(key)] = value
    return record


def window_ms(value: str | dt.datetime, name: str) -> int:
    """An aware ``datetime`` or ISO-8601 string with a zone, as epoch milliseconds."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name} must be an ISO-8601 instant with a zone, not {value!r}") from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime or an ISO-8601 string with a zone, not {value!r}")
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


class DeskExpected:
    """
    Computes the tidy records of a Desk resource from the model.

    :param model: the data shared with the API.
    """

    def __init__(self, model: DeskModel) -> None:
        self.model = model

    def records(
        self,
        resource: str,
        bursts: Sequence[DeskBurst],
        modified_from: str | dt.datetime | None = None,
        modified_to: str | dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """
        The tidy records of ``resource`` for the window (ignored by snapshots).

        :raises KeyError: for an unknown resource.
        :raises ValueError: for a missing or naive bound of an incremental resource, or an empty window.
        """
        if resource not in DESK_RESOURCES:
            raise KeyError(f"unknown Desk resource {resource!r}; known: {', '.join(DESK_RESOURCES)}")
        if resource in SNAPSHOTS:
            rows = self.model.departments() if resource == "departments" else self.model.agents()
            return [tidy(row) for row in rows]
        if modified_from is None or modified_to is None:
            raise ValueError(f"{resource} needs modified_from and modified_to (the window [from, to))")
        low, high = window_ms(modified_from, "modified_from"), window_ms(modified_to, "modified_to")
        if high <= low:
            raise ValueError("modified_to must be after modified_from")
        keys = sorted(self.model.keys(resource, bursts, low, high - 1))
        return [tidy(self.model.row(resource, key)) for key in keys]
