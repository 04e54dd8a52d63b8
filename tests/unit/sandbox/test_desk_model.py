from __future__ import annotations

import re
from collections import Counter

from airflow_provider_zoho.sandbox.desk_model import (
    DATA_HOURS,
    DATA_START_MS,
    HOUR_MS,
    LIST_OMITS,
    DeskBurst,
    DeskModel,
    iso_ms,
)

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# The ticket of reference/000_11b325b86b85a4fe.txt (the end of the document this project started from).
SAMPLE_TICKET_KEYS = {
    "phone", "assigneeId", "subject", "timeEntryCount", "resolution", "id", "closedTime", "webUrl",
    "description", "priority", "customerResponseTime", "approvalCount", "dueDate", "customFields",
    "createdTime", "status", "modifiedTime", "ticketNumber", "commentCount", "attachmentCount", "productId",
    "category", "contactId", "email", "taskCount", "subCategory", "classification", "threadCount",
    "departmentId", "channel",
}  # fmt: skip


def test_same_seed_same_rows_other_seed_other_rows():
    a, b, c = DeskModel(3), DeskModel(3), DeskModel(4)
    keys = list(a.keys("tickets", (), DATA_START_MS, DATA_START_MS + 48 * HOUR_MS))
    assert keys == list(b.keys("tickets", (), DATA_START_MS, DATA_START_MS + 48 * HOUR_MS))
    assert keys != list(c.keys("tickets", (), DATA_START_MS, DATA_START_MS + 48 * HOUR_MS))
    assert a.row("tickets", keys[0]) == b.row("tickets", keys[0])


def test_modifications_spread_over_half_a_year_with_busy_hours():
    model = DeskModel(0)
    keys = list(model.keys("tickets", ()))
    per_hour = Counter((ms - DATA_START_MS) // HOUR_MS for ms, _ in keys)
    assert 2.0 <= len(keys) / DATA_HOURS <= 5.0  # a few per hour on average
    assert max(per_hour.values()) >= 15  # some hours are busy
    assert len(per_hour) > DATA_HOURS * 0.85  # most hours have some
    assert all(DATA_START_MS <= ms < DATA_START_MS + DATA_HOURS * HOUR_MS for ms, _ in keys)
    assert len({row_id for _, row_id in keys}) == len(keys)
    assert all(16 <= len(str(row_id)) <= 19 for _, row_id in keys)
    contacts = list(model.keys("contacts", ()))
    assert len(keys) / 8 < len(contacts) < len(keys) / 2
    assert not {i for _, i in keys} & {i for _, i in contacts}


def test_ticket_rows_have_the_documented_shape():
    model = DeskModel(0)
    rows = [model.row("tickets", key) for key in list(model.keys("tickets", ()))[:400]]
    for row in rows:
        assert set(row) >= SAMPLE_TICKET_KEYS
        assert set(row) >= LIST_OMITS
        assert row["id"].isdigit()
        assert len(row["id"]) >= 16
        for key, value in row.items():
            if key.endswith("Count"):
                assert isinstance(value, str), key
                assert value.isdigit(), key
            if key.endswith("Id") and value is not None:
                assert isinstance(value, str), key
                assert value.isdigit(), key
            if (key.endswith("Time") or key in ("dueDate", "responseDueDate")) and value is not None:
                assert ISO_MS.match(value), (key, value)
        assert row["createdTime"] <= row["modifiedTime"]
        assert set(row["cf"]) == {"cf_location", "cf_plan"}
        assert set(row["customFields"]) == {"Location", "Plan"}
        assert row["statusType"] in ("Open", "On Hold", "Closed")
        assert (row["closedTime"] is None) == (row["status"] != "Closed")
    assert {row["priority"] for row in rows} >= {"High", None}  # nullable fields are sometimes null
    assert {row["channel"] for row in rows} >= {"Email", "Phone"}
    assert any(row["customerResponseTime"][-4:-1] != "000" for row in rows)  # real milliseconds


def test_contact_rows_and_snapshots():
    model = DeskModel(0)
    contact = model.row("contacts", next(iter(model.keys("contacts", ()))))
    assert {"id", "firstName", "lastName", "email", "modifiedTime", "cf", "customFields"} <= set(contact)
    assert all(isinstance(v, str) for v in contact["customerHappiness"].values())
    organizations = model.organizations()
    assert [type(o["id"]) for o in organizations] == [int, int]  # the one numeric id of Desk
    assert [o["isDefault"] for o in organizations] == [True, False]
    assert str(organizations[0]["id"]) == model.org_id
    departments, agents = model.departments(), model.agents()
    assert len(departments) == 4
    assert len(agents) == 12
    assert {d["id"] for d in departments} >= {a for agent in agents for a in agent["associatedDepartmentIds"]}
    assert DeskModel(0).agents() == agents


def test_bursts_spread_evenly_or_share_one_instant():
    model = DeskModel(0)
    start = DATA_START_MS + 100 * HOUR_MS
    bursts = (DeskBurst("tickets", 4, start, start + 4000), DeskBurst("tickets", 3, start + 10, start + 10))
    extra = [
        key for key in model.keys("tickets", bursts, start, start + 5000) if key[1] >= 1_892_000_090_000_000
    ]
    assert [ms - start for ms, _ in extra] == [0, 1000, 2000, 3000, 10, 10, 10]
    assert len({row_id for _, row_id in extra}) == 7
    assert list(model.keys("contacts", bursts, start, start + 5000)) == list(
        model.keys("contacts", (), start, start + 5000)
    )


def test_iso_ms():
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(DATA_START_MS + 1234) == "2026-01-01T00:00:01.234Z"
