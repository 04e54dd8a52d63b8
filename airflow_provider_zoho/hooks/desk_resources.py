"""
The Zoho Desk resource table: what can be extracted, declared once.

Each :class:`DeskResource` says where it lives, how it is read (``incremental``: the search endpoint,
sorted by ``modifiedTime`` and cut to a window; otherwise a full snapshot of a list endpoint) and what its
records are: the declared columns (name, type, nullability, one-line description), in record order. The
columns follow the rows Desk sends (the documented ticket sample, reference/zoho-desk.md section 6) and
drive the normalization of every record (:attr:`DeskResource.mapper`):

- keys in snake_case (``modifiedTime`` -> ``modified_time``, ``photoURL`` -> ``photo_url``);
- ids (``id``, ``*_id``) as text: Desk's ids have up to 19 digits, beyond a double's exact range;
- counts (``int64``) as integers: Desk sends ``"threadCount": "7"``;
- instants (``timestamp``) as ISO-8601 UTC with milliseconds, ``2026-03-10T05:00:00.000Z``, whatever
  offset Desk writes them with (epoch milliseconds, seen in some legacy values, too);
- ``cf`` (custom fields by API name), ``custom_fields`` (by label) and other nested values as JSON;
- a declared column a row lacks is ``None`` (Desk leaves out fields the agent's profile may not see); a key
  no column declares is kept, snake_cased, after the declared ones.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.hooks.apptics_normalize import RowMapper, to_count, to_id
from airflow_provider_zoho.schema import Column, column_names

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "API_ROOT",
    "ORGANIZATIONS",
    "RESOURCES",
    "DeskResource",
    "format_ms",
    "instant_ms",
    "resource_named",
    "to_instant",
]

#: Path prefix of every Desk call (Desk answers an unexplained 404 without it).
API_ROOT = "/api/v1"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MS = dt.timedelta(milliseconds=1)
#: How Desk writes instants, and how records carry them: text that matches is a valid instant as it is
#: (days past the 28th are left to the full parser, which knows each month's length).
_CANONICAL = re.compile(
    r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z"
)


# -- instants ------------------------------------------------------------------------------------------------


def format_ms(ms: int) -> str:
    """
    Epoch milliseconds as Desk writes instants: ``2026-03-10T05:00:00.123Z``.

    :param ms: milliseconds since 1970-01-01 UTC.
    """
    stamp = _EPOCH + ms * _MS
    return (
        f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}T{stamp.hour:02d}:{stamp.minute:02d}:"
        f"{stamp.second:02d}.{stamp.microsecond // 1000:03d}Z"
    )


def instant_ms(value: Any) -> int:
    """
    An instant as Desk sends it, as epoch milliseconds (sub-millisecond digits are dropped).

    :param value: ISO-8601 text with a zone (``2026-03-10T05:00:00.000Z``, ``...+05:30``), or epoch
        milliseconds (a whole number, or text of digits).
    :raises ValueError: for anything else (text without a zone, a fraction of a millisecond...).
    """
    kind = type(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():
        return int(value)
    if kind is not str:
        raise ValueError(f"{value!r} is not an instant")
    text = value.strip()
    if text.isdigit() and text.isascii():
        return int(text)
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    stamp = dt.datetime.fromisoformat(text)
    if stamp.utcoffset() is None:
        raise ValueError(f"{value!r} has no zone")
    return (stamp - _EPOCH) // _MS


def to_instant(value: Any) -> str | None:
    """
    Normalize an instant as Desk sends it to ISO-8601 UTC with milliseconds (``None`` stays ``None``).

    :raises ValueError: for a value that is not an instant.
    """
    if value is None:
        return None
    if type(value) is str and _CANONICAL.fullmatch(value):
        return value  # how Desk writes them: nothing to do
    try:
        return format_ms(instant_ms(value))
    except OverflowError:
        raise ValueError(f"{value!r} is beyond the instants a timestamp can hold") from None


def converter(column: Column) -> Callable[[Any], Any] | None:
    """How a record value of ``column`` is normalized: ids to text, counts to ``int``, instants to ISO."""
    if column.is_id:
        return to_id
    if column.type == "int64":
        return to_count
    if column.type == "timestamp":
        return to_instant
    return None


# -- the table -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskResource:
    """
    One Zoho Desk resource.

    :param name: the resource name users pass (``tickets``).
    :param path: the path under :data:`API_ROOT`.
    :param description: what a record is, in one line.
    :param columns: the declared record columns, in record order.
    :param incremental: read through the search endpoint by ``modifiedTime`` window (``tickets``,
        ``contacts``); otherwise a full snapshot of a list endpoint (the window does not apply).
    :param org_header: whether calls send the ``orgId`` header (all but ``/organizations``).
    """

    name: str
    path: str
    description: str
    columns: tuple[Column, ...]
    incremental: bool = False
    org_header: bool = True

    @property
    def fields(self) -> tuple[str, ...]:
        """The declared column names, in record order."""
        return column_names(self.columns)

    @cached_property
    def mapper(self) -> RowMapper:
        """Maps Desk's rows to records of :attr:`columns` (see the module's normalization rules)."""
        converters = {
            column.name: convert for column in self.columns if (convert := converter(column)) is not None
        }
        return RowMapper(self.name, self.fields, {}, converters, product="Zoho Desk")


def _text(name: str, description: str, nullable: bool = True) -> Column:
    return Column(name, "string", description, nullable)


def _count(name: str, description: str) -> Column:
    return Column(name, "int64", description)


def _instant(name: str, description: str, nullable: bool = True) -> Column:
    return Column(name, "timestamp", f"{description}, UTC", nullable)


def _flag(name: str, description: str) -> Column:
    return Column(name, "bool", description)


def _json(name: str, description: str) -> Column:
    return Column(name, "json", description)


_MODIFIED = _instant("modified_time", "when it was last modified (the window's cursor)", nullable=False)
_CF = _json("cf", "custom fields by API name (cf_...), values as text or null")
_CUSTOM_FIELDS = _json("custom_fields", "custom fields by label, values as text or null")

TICKET_COLUMNS: tuple[Column, ...] = (
    _text("id", "ticket id", nullable=False),
    _text("ticket_number", "the ticket number agents and customers see"),
    _MODIFIED,
    _instant("created_time", "when the ticket was created"),
    _text("subject", "subject"),
    _text("description", "the ticket's description, as Desk stores it"),
    _text("status", "status, as the portal names it (Open, On Hold, Escalated, Closed...)"),
    _text("status_type", "Open, On Hold or Closed"),
    _text("priority", "priority, as the portal names it"),
    _text("channel", "where the ticket came in (Email, Web, Phone, Chat...)"),
    _text("category", "category"),
    _text("sub_category", "sub-category"),
    _text("classification", "classification (Problem, Request, Question...)"),
    _text("language", "language"),
    _text("resolution", "resolution text"),
    _text("department_id", "department id"),
    _text("contact_id", "contact id of the requester"),
    _text("account_id", "account id of the requester"),
    _text("assignee_id", "agent id of the assignee (null: unassigned)"),
    _text("team_id", "team id"),
    _text("product_id", "product id"),
    _text("layout_id", "layout id"),
    _text("email", "the requester's email address"),
    _text("phone", "the requester's phone number"),
    _text("web_url", "the ticket's page in Desk"),
    _instant("closed_time", "when the ticket was closed"),
    _instant("onhold_time", "when the ticket was put on hold"),
    _instant("due_date", "when the ticket is due"),
    _instant("response_due_date", "when the first response is due"),
    _instant("customer_response_time", "when the customer last responded"),
    _count("thread_count", "threads (messages) on the ticket"),
    _count("comment_count", "comments on the ticket"),
    _count("task_count", "tasks on the ticket"),
    _count("attachment_count", "attachments on the ticket"),
    _count("approval_count", "approvals on the ticket"),
    _count("time_entry_count", "time entries on the ticket"),
    _flag("is_spam", "marked as spam"),
    _flag("is_archived", "archived"),
    _flag("is_escalated", "escalated"),
    _flag("is_over_due", "past its due date"),
    _flag("is_response_overdue", "its first response is overdue"),
    _flag("is_read", "read by the assignee"),
    _json("source", "where the ticket came from: type (SYSTEM, INTEGRATION...), appName, extId, permalink"),
    _CF,
    _CUSTOM_FIELDS,
)

CONTACT_COLUMNS: tuple[Column, ...] = (
    _text("id", "contact id", nullable=False),
    _MODIFIED,
    _instant("created_time", "when the contact was created"),
    _text("first_name", "first name"),
    _text("last_name", "last name"),
    _text("email", "email address"),
    _text("secondary_email", "secondary email address"),
    _text("phone", "phone number"),
    _text("mobile", "mobile number"),
    _text("account_id", "account id"),
    _text("owner_id", "agent id of the contact's owner"),
    _text("type", "contact type, as the portal names it"),
    _flag("is_anonymous", "an anonymous contact"),
    _flag("is_end_user", "a help center (end) user"),
    _flag("is_spam", "marked as spam"),
    _text("photo_url", "photo URL"),
    _text("web_url", "the contact's page in Desk"),
    _json("zoho_crm_contact", "the linked Zoho CRM record (id, type), if any"),
    _json("customer_happiness", "share of good, ok and bad ratings (percentages as text)"),
    _text("description", "description"),
    _CF,
    _CUSTOM_FIELDS,
)

DEPARTMENT_COLUMNS: tuple[Column, ...] = (
    _text("id", "department id", nullable=False),
    _text("name", "name"),
    _text("name_in_customer_portal", "name shown in the help center"),
    _text("description", "description"),
    _flag("is_enabled", "enabled"),
    _flag("is_default", "the portal's default department"),
    _flag("is_assign_to_team_enabled", "tickets can be assigned to teams"),
    _flag("is_visible_in_customer_portal", "shown in the help center"),
    _flag("has_logo", "has a logo"),
    _text("creator_id", "agent id of its creator"),
    _instant("created_time", "when it was created"),
    _text("chat_status", "chat availability (AVAILABLE, DISABLED...)"),
    _text("sanitized_name", "URL-safe name"),
)

AGENT_COLUMNS: tuple[Column, ...] = (
    _text("id", "agent id", nullable=False),
    _text("first_name", "first name"),
    _text("last_name", "last name"),
    _text("name", "full name"),
    _text("email_id", "email address"),
    _text("phone", "phone number"),
    _text("mobile", "mobile number"),
    _text("status", "ACTIVE or DISABLED"),
    _flag("is_confirmed", "has accepted the invitation"),
    _text("role_id", "role id"),
    _text("profile_id", "profile id (what the agent may see and do)"),
    _text("role_permission_type", "the profile's kind (Admin, AgentPersonal...)"),
    _text("zuid", "the agent's Zoho user id"),
    _text("lang_code", "language (en_US...)"),
    _text("time_zone", "time zone (Europe/London...)"),
    _text("photo_url", "photo URL"),
    _json("associated_department_ids", "ids of the departments the agent works in, a list"),
    _json("associated_chat_department_ids", "ids of the departments the agent chats for, a list"),
    _json("channel_expert", "channels the agent handles (Email, Phone, Chat...), a list"),
    _flag("is_zia_agent", "Zia, Zoho's AI agent"),
)

#: Every extractable Desk resource, by name.
RESOURCES: Mapping[str, DeskResource] = MappingProxyType(
    {
        resource.name: resource
        for resource in (
            DeskResource(
                "tickets",
                "/tickets/search",
                "support tickets",
                TICKET_COLUMNS,
                incremental=True,
            ),
            DeskResource(
                "contacts",
                "/contacts/search",
                "the customers who raise tickets",
                CONTACT_COLUMNS,
                incremental=True,
            ),
            DeskResource("departments", "/departments", "the portal's departments", DEPARTMENT_COLUMNS),
            DeskResource("agents", "/agents", "the portal's agents", AGENT_COLUMNS),
        )
    }
)

#: The organizations (portals) the token's user belongs to; the one call without ``orgId``.
ORGANIZATIONS = DeskResource(
    "organizations",
    "/organizations",
    "the organizations (portals) the authorizing user belongs to",
    (
        _text("id", "organization id, the connection's desk_org_id (a JSON number in Desk's answer)", False),
        _text("company_name", "company name"),
        _text("portal_name", "portal name"),
        _text("portal_url", "help center URL"),
        _text("edition", "edition (FREE, STANDARD, PROFESSIONAL, ENTERPRISE...)"),
        _flag("is_default", "the user's default organization"),
        _flag("is_admin_in_org", "the user is an administrator"),
        _flag("is_sandbox_portal", "a sandbox portal"),
        _flag("is_payload_encryption_enabled", "payload encryption is on"),
        _text("employee_count", "company size band (51-200...)"),
        _text("currency_code", "currency (USD...)"),
        _text("logo_url", "logo URL"),
    ),
    org_header=False,
)


def resource_named(name: Any) -> DeskResource:
    """
    The resource called ``name``.

    :raises ZohoConfigError: naming the resources there are.
    """
    resource = RESOURCES.get(name) if isinstance(name, str) else None
    if resource is None:
        raise ZohoConfigError(
            f"resource must be one of the Zoho Desk resources {', '.join(RESOURCES)}, got {name!r}."
        )
    return resource
