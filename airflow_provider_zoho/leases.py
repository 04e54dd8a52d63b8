"""
Leases: how processes take turns without a lock service.

Airflow Variables and object stores have no compare-and-set, so a process that must do something alone
(mint a token, commit a partition) writes a lease ``{"owner", "until"}`` where the others can see it,
waits a settle delay, reads it back and goes ahead only if the lease is still its own. Everyone else waits
while the lease is honoured.

A lease is read from shared state that anybody may have written, so it is parsed defensively: anything
that is not ``{"owner": <text>, "until": <finite number>}`` is no lease at all. And a waiter honours
another owner's lease only until its ``until`` and never longer than the lease period after it first saw
that lease, so a lease with an absurd ``until`` (a corrupt value, a skewed clock, a crashed holder) delays
others by one lease period at most. A live holder renews its lease by writing a new ``until``, which a
waiter sees as a new lease.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any


def finite_number(value: Any) -> float | None:
    """
    Read a number from untrusted JSON.

    :param value: the decoded JSON value.
    :return: ``value`` as a float when it is a finite int or float (booleans are not numbers, and an
        integer too large for a float is not finite); ``None`` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def new_owner() -> str:
    """A lease owner id unique across hosts, processes and calls: ``<host>:<pid>:<random>``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lease:
    """
    A claim by ``owner`` to act alone until ``until``.

    :param owner: who holds it (see :func:`new_owner`).
    :param until: when it lapses unless renewed, epoch seconds.
    """

    owner: str
    until: float

    @classmethod
    def parse(cls, value: Any) -> Lease | None:
        """
        Read a lease from untrusted JSON.

        :param value: the decoded JSON value found in shared state.
        :return: the lease, or ``None`` for anything but ``{"owner": <non-empty text>, "until": <finite
            number>}`` (booleans are not numbers).
        """
        if not isinstance(value, dict):
            return None
        owner, until = value.get("owner"), finite_number(value.get("until"))
        if not isinstance(owner, str) or not owner or until is None:
            return None
        return cls(owner, until)

    def to_json(self) -> dict[str, Any]:
        """The JSON form :meth:`parse` reads."""
        return {"owner": self.owner, "until": self.until}


class LeaseWatch:
    """
    A waiter's view of other owners' leases.

    :param period: the longest a waiter honours one lease, counted from when it first saw it.
    """

    def __init__(self, period: float) -> None:
        self.period = period
        self._seen: Lease | None = None
        self._first_seen = 0.0

    def honoured(self, lease: Lease | None, now: float) -> bool:
        """
        Whether ``lease`` still keeps this waiter waiting at ``now``.

        :param lease: the lease read from shared state (``None``: there is none).
        :param now: the current time, epoch seconds.
        :return: ``True`` until the lease's ``until``, and at most :attr:`period` after this watch first
            saw this exact lease.
        """
        if lease is None:
            return False
        if lease != self._seen:
            self._seen, self._first_seen = lease, now
        return now < min(lease.until, self._first_seen + self.period)
