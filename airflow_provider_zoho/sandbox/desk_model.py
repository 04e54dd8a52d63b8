"""
The deterministic data behind the sandbox's Zoho Desk API.

Organizations, departments, agents, tickets and contacts. Like the Apptics model, every value is a pure
function of the seed and of the entity it describes (keyed BLAKE2, never the clock). Tickets and contacts
are modified over 2026-01-01 .. 2026-06-30 (UTC): each hour holds a Poisson number of them (a few tickets,
about one contact), some hours are busy (ten times more), and each row has one ``modifiedTime`` (its latest
modification, to the millisecond). Rows are found by ``(modified ms, id)`` keys, computed per hour and
cached; a row's fields are built only when it is sent. Tests add rows on demand (:class:`DeskBurst`: N rows
spread over a window, or all at one instant).

Rows are built in the shape of Desk's search answer (with ``modifiedTime``, ``cf`` and ``description``);
the list endpoints drop those keys (:data:`LIST_OMITS`), as Zoho's list views do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: The span of the generated data: [DATA_START, DATA_END).
DATA_START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
DATA_END = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
DATA_START_MS = int((DATA_START - _EPOCH).total_seconds() * 1000)
DATA_HOURS = int((DATA_END - DATA_START).total_seconds()) // 3600

DEFAULT_ORG_ID = "60012345678"
OTHER_ORG_ID = "60012349999"
PORTAL = "acme"
INCREMENTAL = ("tickets", "contacts")
SNAPSHOTS = ("departments", "agents")
#: Keys the list endpoints (``GET /tickets``, ``GET /contacts``) leave out of their rows.
LIST_OMITS = frozenset({"modifiedTime", "cf", "description"})
#: Tickets and contacts per hour on average (busy hours: ten times more).
RATES = {"tickets": 2.5, "contacts": 0.6}
BUSY_SHARE = 0.04
_ID_BASE = {"tickets": 1_892_000_000_100_000, "contacts": 1_892_000_010_000_000}
_BURST_ID_BASE = {"tickets": 1_892_000_090_000_000, "contacts": 1_892_000_095_000_000}
MAX_BURST_ROWS = 1_000_000
_MAX_BURSTS = 40

_DEPARTMENTS = (
    ("1892000000006907", "Customer Support", "Questions and problems from customers"),
    ("1892000000082069", "Billing", "Invoices, refunds and plans"),
    ("1892000000082101", "Technical Escalations", "Second-line engineering support"),
    ("1892000000082133", "Partners", "Resellers and integration partners"),
)
_AGENTS = (
    ("Lawrence", "Fisher"),
    ("Priya", "Raman"),
    ("Tomás", "Alvarez"),
    ("Mei", "Chen"),
    ("Amara", "Okafor"),
    ("Jonas", "Becker"),
    ("Sofia", "Rossi"),
    ("Kenji", "Watanabe"),
    ("Fatima", "Haddad"),
    ("Oliver", "Grant"),
    ("Ana", "Souza"),
    ("Ravi", "Iyer"),
)
_AGENT_ID_BASE = 1_892_000_000_056_007
_SUBJECTS = (
    "Cannot log in after the update",
    "Refund for a duplicate charge",
    "App crashes when opening the cart",
    "How do I export my order history?",
    "Invoice shows the wrong company name",
    "Feature request: dark mode",
    "Push notifications stopped arriving",
    "Welcome to Zoho Desk. You've got a sample Request!",
)
_STATUSES = (
    ("Open", "Open"),
    ("Open", "Open"),
    ("On Hold", "On Hold"),
    ("Closed", "Closed"),
    ("Escalated", "Open"),
)
_CHANNELS = ("Email", "Email", "Web", "Phone", "Chat", "Forums", "Twitter")
_PRIORITIES = ("High", "Medium", "Low", None)
_CATEGORIES = (
    ("Customer Request", "Feature Request"),
    ("Billing", "Refund"),
    ("Technical", "Crash"),
    (None, None),
)
_CLASSIFICATIONS = (None, "Problem", "Request", "Question", "Others")
_LOCATIONS = ("Asia", "Europe", "North America", "South America", "Africa", "Oceania")
_PLANS = ("Free", "Pro", "Team", None)
_FIRST_NAMES = ("Steve", "Maria", "Wei", "Aisha", "Lukas", "Chloe", "Diego", "Hana", "Noah", "Zara")
_LAST_NAMES = ("Jobs", "Garcia", "Zhang", "Khan", "Muller", "Martin", "Lopez", "Sato", "Smith", "Ali")


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as Desk writes times: ``2026-03-10T05:00:00.123Z``."""
    stamp = _EPOCH + dt.timedelta(milliseconds=ms)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _poisson(lam: float, u: float) -> int:
    p = math.exp(-lam)
    cumulative, k = p, 0
    while u > cumulative and k < 1000:
        k += 1
        p *= lam / k
        cumulative += p
    return k


class DeskBurst(NamedTuple):
    """
    Rows added for a test.

    ``rows`` rows modified over ``[start_ms, end_ms)``, evenly; all at ``start_ms`` when the two are equal.
    """

    resource: str
    rows: int
    start_ms: int
    end_ms: int


class DeskModel:
    """
    Deterministic Desk data for one seed.

    :param seed: any value; its ``str()`` keys every hash.
    :param org_id: the organization served (the ``orgId`` header).
    """

    def __init__(self, seed: object = 0, org_id: str = DEFAULT_ORG_ID) -> None:
        self.seed = seed
        self.org_id = str(org_id)
        self._prefix = f"zoho-sandbox-desk|{seed}|".encode()
        self.hour_keys = lru_cache(maxsize=16_384)(self._hour_keys)

    # ------------------------------------------------------------------ hashing
    def digest(self, *parts: object) -> bytes:
        return hashlib.blake2b(self._prefix + "|".join(map(str, parts)).encode(), digest_size=32).digest()

    def unit(self, *parts: object) -> float:
        return int.from_bytes(self.digest(*parts)[:8], "little") / 18446744073709551616.0

    # ------------------------------------------------------------------ keys: (modified ms, id)
    def _hour_keys(self, resource: str, hour: int) -> tuple[tuple[int, int], ...]:
        """The ``(modified ms, id)`` keys of the rows last modified in one hour of the data span."""
        busy = self.unit("busy", resource, hour) < BUSY_SHARE
        day_factor = 0.6 if (DATA_START.weekday() + hour // 24) % 7 >= 5 else 1.0
        lam = RATES[resource] * day_factor * (10 if busy else 1)
        count = _poisson(lam, self.unit("count", resource, hour))
        start = DATA_START_MS + hour * HOUR_MS
        keys = [
            (
                start + int.from_bytes(self.digest("at", resource, hour, k)[:4], "little") % HOUR_MS,
                _ID_BASE[resource] + hour * 1000 + k,
            )
            for k in range(count)
        ]
        return tuple(sorted(keys))

    def keys(
        self,
        resource: str,
        bursts: Iterable[DeskBurst],
        low_ms: int | None = None,
        high_ms: int | None = None,
    ) -> Iterator[tuple[int, int]]:
        """
        The keys of ``resource`` modified in ``[low_ms, high_ms]`` (both inclusive; ``None``: unbounded).

        Generated rows come hour by hour in ``(modified, id)`` order; burst rows follow, unsorted.
        """
        low = DATA_START_MS if low_ms is None else max(low_ms, DATA_START_MS)
        high = DATA_START_MS + DATA_HOURS * HOUR_MS - 1 if high_ms is None else high_ms
        for hour in range(
            max(0, (low - DATA_START_MS) // HOUR_MS), min(DATA_HOURS, (high - DATA_START_MS) // HOUR_MS + 1)
        ):
            for key in self.hour_keys(resource, hour):
                if low <= key[0] <= high:
                    yield key
        for number, burst in enumerate(bursts):
            if burst.resource != resource:
                continue
            for i in range(burst.rows):
                ms = burst.start_ms + (i * (burst.end_ms - burst.start_ms)) // burst.rows
                if (low_ms is None or low_ms <= ms) and (high_ms is None or ms <= high_ms):
                    yield ms, _BURST_ID_BASE[resource] + number * MAX_BURST_ROWS + i

    # ------------------------------------------------------------------ rows
    def row(self, resource: str, key: tuple[int, int]) -> dict[str, Any]:
        """The row with this key, as the search endpoint sends it."""
        modified_ms, row_id = key
        return (
            self.ticket(row_id, modified_ms) if resource == "tickets" else self.contact(row_id, modified_ms)
        )

    def created_ms(self, row_id: int, modified_ms: int) -> int:
        """When a row was created: up to 20 days before its last modification."""
        return modified_ms - int.from_bytes(self.digest("created", row_id)[:4], "little") % (20 * DAY_MS)

    def ticket(self, ticket_id: int, modified_ms: int) -> dict[str, Any]:
        h = self.digest("ticket", ticket_id)
        created = self.created_ms(ticket_id, modified_ms)
        status, status_type = _STATUSES[h[0] % len(_STATUSES)]
        category, sub_category = _CATEGORIES[h[1] % len(_CATEGORIES)]
        location, plan = _LOCATIONS[h[2] % len(_LOCATIONS)], _PLANS[h[3] % len(_PLANS)]
        assignee = None if h[4] % 5 == 0 else str(_AGENT_ID_BASE + 1000 * (h[5] % len(_AGENTS)))
        contact_id = str(_ID_BASE["contacts"] + int.from_bytes(h[6:9], "little") % (DATA_HOURS * 1000))
        first, last = _FIRST_NAMES[h[9] % len(_FIRST_NAMES)], _LAST_NAMES[h[10] % len(_LAST_NAMES)]
        response_ms = created + 1000 * (h[11] | h[12] << 8) + h[13] * 3
        closed = status == "Closed"
        return {
            "phone": None if h[14] % 3 == 0 else f"+1 888 900 {9000 + h[15] % 1000:04d}",
            "assigneeId": assignee,
            "subject": _SUBJECTS[h[16] % len(_SUBJECTS)],
            "timeEntryCount": str(h[17] % 4),
            "resolution": "Resolved by a configuration change" if closed else None,
            "id": str(ticket_id),
            "closedTime": iso_ms(modified_ms - (h[18] % 60) * 1000) if closed else None,
            "webUrl": f"https://desk.zoho.com/support/{PORTAL}/ShowHomePage.do#Cases/dv/{h[19:27].hex()}",
            "description": f"Hello, {_SUBJECTS[h[16] % len(_SUBJECTS)].lower()}. Thanks, {first}",
            "priority": _PRIORITIES[h[20] % len(_PRIORITIES)],
            "customerResponseTime": iso_ms(min(response_ms, modified_ms)),
            "approvalCount": str(h[21] % 2),
            "dueDate": None if closed else iso_ms(created + 2 * DAY_MS),
            "responseDueDate": None if h[22] % 2 else iso_ms(created + 4 * HOUR_MS),
            "customFields": {"Location": location, "Plan": plan},
            "cf": {"cf_location": location, "cf_plan": plan},
            "createdTime": iso_ms(created),
            "status": status,
            "statusType": status_type,
            "modifiedTime": iso_ms(modified_ms),
            "ticketNumber": str(101 + (ticket_id - _ID_BASE["tickets"]) % 10_000_000),
            "commentCount": str(h[23] % 3),
            "attachmentCount": str(h[24] % 2),
            "productId": None,
            "category": category,
            "contactId": contact_id,
            "email": f"{first.lower()}.{last.lower()}@example.com",
            "taskCount": str(h[25] % 2),
            "subCategory": sub_category,
            "classification": _CLASSIFICATIONS[h[26] % len(_CLASSIFICATIONS)],
            "threadCount": str(1 + h[27] % 12),
            "departmentId": _DEPARTMENTS[h[28] % len(_DEPARTMENTS)][0],
            "channel": _CHANNELS[h[29] % len(_CHANNELS)],
            "onholdTime": iso_ms(modified_ms) if status == "On Hold" else None,
            "teamId": None,
            "accountId": None if h[30] % 2 else str(1_892_000_000_300_000 + h[31]),
            "language": "English",
            "isSpam": False,
            "isArchived": False,
            "isEscalated": status == "Escalated",
            "isOverDue": not closed and h[0] % 7 == 0,
            "isResponseOverdue": False,
            "isRead": h[1] % 4 != 0,
            "layoutId": "1892000000074011",
            "source": {
                "appName": None,
                "extId": None,
                "permalink": None,
                "type": "SYSTEM",
                "appPhotoURL": None,
            },
        }

    def contact(self, contact_id: int, modified_ms: int) -> dict[str, Any]:
        h = self.digest("contact", contact_id)
        first, last = _FIRST_NAMES[h[0] % len(_FIRST_NAMES)], _LAST_NAMES[h[1] % len(_LAST_NAMES)]
        good = h[2] % 101
        location = _LOCATIONS[h[3] % len(_LOCATIONS)]
        return {
            "id": str(contact_id),
            "firstName": first,
            "lastName": last,
            "email": f"{first.lower()}.{last.lower()}{h[4]}@example.com",
            "secondaryEmail": None,
            "phone": None if h[5] % 3 == 0 else f"+44 20 7946 {h[6] * 3:04d}",
            "mobile": None,
            "accountId": None if h[7] % 2 else str(1_892_000_000_300_000 + h[8]),
            "ownerId": str(_AGENT_ID_BASE + 1000 * (h[9] % len(_AGENTS))),
            "type": None,
            "isAnonymous": False,
            "isEndUser": h[10] % 5 != 0,
            "isSpam": False,
            "photoURL": None,
            "webUrl": f"https://desk.zoho.com/support/{PORTAL}/ShowHomePage.do#Contacts/dv/{h[11:19].hex()}",
            "createdTime": iso_ms(self.created_ms(contact_id, modified_ms)),
            "modifiedTime": iso_ms(modified_ms),
            "zohoCRMContact": None,
            "customerHappiness": {
                "badPercentage": str((100 - good) // 2),
                "okPercentage": str(100 - good - (100 - good) // 2),
                "goodPercentage": str(good),
            },
            "description": None if h[20] % 2 else f"{first} from {location}",
            "cf": {"cf_region": location},
            "customFields": {"Region": location},
        }

    # ------------------------------------------------------------------ organizations and snapshots
    def organizations(self) -> list[dict[str, Any]]:
        """The organizations of the authorizing user (ids are JSON numbers here, unlike every other id)."""
        return [
            {
                "id": int(self.org_id),
                "companyName": "Acme",
                "portalName": PORTAL,
                "portalURL": f"https://desk.zoho.com/portal/{PORTAL}",
                "edition": "ENTERPRISE",
                "isDefault": True,
                "isAdminInOrg": True,
                "isSandboxPortal": False,
                "isPayloadEncryptionEnabled": False,
                "employeeCount": "51-200",
                "currencyCode": "USD",
                "logoURL": None,
            },
            {
                "id": int(OTHER_ORG_ID) if self.org_id != OTHER_ORG_ID else int(DEFAULT_ORG_ID),
                "companyName": "Acme Labs",
                "portalName": "acmelabs",
                "portalURL": "https://desk.zoho.com/portal/acmelabs",
                "edition": "PROFESSIONAL",
                "isDefault": False,
                "isAdminInOrg": False,
                "isSandboxPortal": True,
                "isPayloadEncryptionEnabled": False,
                "employeeCount": "1-10",
                "currencyCode": "USD",
                "logoURL": None,
            },
        ]

    def departments(self) -> list[dict[str, Any]]:
        rows = []
        for index, (department_id, name, description) in enumerate(_DEPARTMENTS):
            h = self.digest("department", department_id)
            rows.append(
                {
                    "id": department_id,
                    "name": name,
                    "nameInCustomerPortal": name,
                    "description": description,
                    "isEnabled": index < 3 or bool(h[0] % 2),
                    "isDefault": index == 0,
                    "isAssignToTeamEnabled": bool(h[1] % 2),
                    "isVisibleInCustomerPortal": index != 2,
                    "hasLogo": False,
                    "creatorId": str(_AGENT_ID_BASE),
                    "createdTime": iso_ms(DATA_START_MS - (400 - 30 * index) * DAY_MS + h[2] * 1000),
                    "chatStatus": "AVAILABLE" if h[3] % 3 else "DISABLED",
                    "sanitizedName": name.lower().replace(" ", "-"),
                }
            )
        return rows

    def agents(self) -> list[dict[str, Any]]:
        rows = []
        for index, (first, last) in enumerate(_AGENTS):
            agent_id = _AGENT_ID_BASE + 1000 * index
            h = self.digest("agent", agent_id)
            departments = sorted({_DEPARTMENTS[0][0], _DEPARTMENTS[h[0] % len(_DEPARTMENTS)][0]})
            rows.append(
                {
                    "id": str(agent_id),
                    "firstName": first,
                    "lastName": last,
                    "name": f"{first} {last}",
                    "emailId": f"{first.lower()}@{PORTAL}.example.com",
                    "phone": None,
                    "mobile": None if h[1] % 2 else f"+1 555 010 {h[2]:04d}",
                    "status": "DISABLED" if index == len(_AGENTS) - 1 else "ACTIVE",
                    "isConfirmed": True,
                    "roleId": str(1_892_000_000_011_000 + (h[3] % 3)),
                    "profileId": str(1_892_000_000_012_000 + (0 if index == 0 else 1 + h[4] % 2)),
                    "rolePermissionType": "Admin" if index == 0 else "AgentPersonal",
                    "zuid": str(700_000_000 + index * 37 + h[5]),
                    "langCode": "en_US",
                    "timeZone": ("Asia/Kolkata", "Europe/London", "America/New_York")[h[6] % 3],
                    "photoURL": None,
                    "associatedDepartmentIds": departments,
                    "associatedChatDepartmentIds": departments[:1],
                    "channelExpert": ["Email", "Phone"] if h[7] % 2 else ["Email", "Chat", "Phone"],
                    "isZiaAgent": False,
                }
            )
        return rows
