"""Reading exports: the contacts table, a mapping file, the built-in formats and the Technion
log; bad rows are reported with their file, row and reason, and left out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from carepath.assessment import load_mapping, read_inputs
from carepath.assessment.intake import Intake
from carepath.errors import InvalidInput
from tests.unit.assessment.hand_built import write

HEADER = (
    "contact_id,customer_id,case_id,started_at,ended_at,channel,handled_by,assistant_involved,"
    "intent,segment,resolved,abandoned,wait_s,handle_s,csat,nps,ces"
)


def problems(intake: Intake) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.reason) for p in intake.problems]


def test_contacts_table_with_bad_timestamps_and_mixed_zones(tmp_path: Path) -> None:
    # given a contacts CSV whose row 2 has no zone, row 3 an impossible date and row 4 ends
    # before it starts
    path = write(
        tmp_path / "contacts.csv",
        f"""{HEADER}
a,c1,,2024-03-01T09:00:00Z,,chat,agent,false,billing,,,false,12,300,,,
b,c2,,2024-03-01T10:00:00,,chat,agent,false,billing,,,false,,,,,
c,c3,,2024-02-30T09:00:00Z,,voice,agent,false,billing,,,false,,,,,
d,c4,,2024-03-01T11:00:00+02:00,2024-03-01T08:00:00Z,email,agent,false,billing,,,false,,,,,
e,c5,,2024-03-01T11:00:00+01:00,,email,agent,false,billing,,,false,,,,,
""",
    )

    # when it is read
    intake = read_inputs([path])

    # then the good rows are kept (zones converted to UTC) and each bad one is named
    assert intake.contacts.column("contact_id").to_pylist() == ["a", "e"]
    assert intake.contacts.column("started_at")[1].as_py() == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert [(row, column) for row, column, _ in problems(intake)] == [
        (2, "started_at"),
        (3, "started_at"),
        (4, "ended_at"),
    ]
    assert "zone offset" in intake.problems[0].reason
    assert intake.problems[2].reason == "before started_at"
    (summary,) = intake.files
    assert (summary.format, summary.rows, summary.used, summary.invalid) == ("contacts", 5, 2, 3)


def test_missing_columns_leave_nothing_usable(tmp_path: Path) -> None:
    path = write(
        tmp_path / "short.csv", "contact_id,customer_id,started_at\na,c1,2024-03-01T09:00Z\n"
    )

    with pytest.raises(InvalidInput) as raised:
        read_inputs([path], format="contacts")

    assert raised.value.code == "nothing_usable"
    assert "missing columns" in raised.value.message
    assert "channel" in raised.value.message


def test_a_file_that_cannot_be_read_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write(
        tmp_path / "good.csv",
        f"{HEADER}\na,c1,,2024-03-01T09:00:00Z,,chat,agent,false,billing,,,false,,,,,\n",
    )
    unknown = write(tmp_path / "unknown.csv", "what,is,this\n1,2,3\n")

    intake = read_inputs([unknown, good])

    assert intake.contacts.num_rows == 1
    assert intake.files[0].error is not None
    assert "cannot tell its format" in intake.files[0].error


def test_repeated_ids_across_files_are_left_out(tmp_path: Path) -> None:
    row = "a,c1,,2024-03-01T09:00:00Z,,chat,agent,false,billing,,,false,,,,,"
    other = "b,c2,,2024-03-01T09:00:00Z,,chat,agent,false,billing,,,false,,,,,"
    first = write(tmp_path / "one.csv", f"{HEADER}\n{row}\n{other}\n")
    second = write(tmp_path / "two.csv", f"{HEADER}\n{row}\n")

    intake = read_inputs([first, second])

    assert intake.contacts.column("contact_id").to_pylist() == ["b"]
    assert [(p.file, p.row, p.reason) for p in intake.problems] == [
        (str(first), 1, "appears more than once"),
        (str(second), 1, "appears more than once"),
    ]


MAPPING = """
delimiter: ";"
columns:
  contact_id: Ticket
  customer_id: Customer
  started_at: Opened
  channel: Source
  intent: Topics
  wait_s: Queue minutes
  csat: Rating
constants:
  handled_by: agent
values:
  channel: {phone: voice, "web chat": chat, "*": email}
first_of:
  intent: "|"
units:
  wait_s: minutes
time_format: "%d/%m/%Y %H:%M"
timezone: Europe/Amsterdam
"""


def test_a_mapping_file(tmp_path: Path) -> None:
    # given a semicolon export with day-first local times and waits in minutes
    mapping = load_mapping(write(tmp_path / "mapping.yaml", MAPPING))
    path = write(
        tmp_path / "export.csv",
        "Ticket;Customer;Opened;Source;Topics;Queue minutes;Rating\n"
        "T1;C1;15/01/2024 09:30;Phone;billing|vip;1.5;5\n"
        "T2;C2;15/07/2024 09:30;Web chat;;;\n"
        "T3;C3;31/02/2024 09:30;Letter;refund;x;4.5\n",
    )

    # when it is read with the mapping
    intake = read_inputs([path], mapping=mapping)

    # then: Amsterdam is UTC+1 in January, UTC+2 in July; 1.5 minutes is 90 s
    rows = intake.contacts.to_pylist()
    assert [r["contact_id"] for r in rows] == ["T1", "T2"]
    assert rows[0]["started_at"] == datetime(2024, 1, 15, 8, 30, tzinfo=UTC)
    assert rows[1]["started_at"] == datetime(2024, 7, 15, 7, 30, tzinfo=UTC)
    assert (rows[0]["channel"], rows[1]["channel"]) == ("voice", "chat")
    assert (rows[0]["intent"], rows[1]["intent"]) == ("billing", None)
    assert (rows[0]["wait_s"], rows[0]["csat"]) == (90.0, 5)
    assert rows[0]["assistant_involved"] is False
    # and the third row's three bad values are each reported, with the source row number
    assert sorted(problems(intake)) == [
        (3, "csat", "not a whole number"),
        (3, "started_at", "not a time in the format '%d/%m/%Y %H:%M'"),
        (3, "wait_s", "not a number"),
    ]


def test_times_without_a_zone_among_zoned_ones_are_refused(tmp_path: Path) -> None:
    mapping = load_mapping(
        write(
            tmp_path / "m.yaml",
            MAPPING.replace("timezone: Europe/Amsterdam\n", "").replace(
                'time_format: "%d/%m/%Y %H:%M"', "time_format: iso"
            ),
        )
    )
    path = write(
        tmp_path / "export.csv",
        "Ticket;Customer;Opened;Source;Topics;Queue minutes;Rating\n"
        "T1;C1;2024-01-15T09:30:00+01:00;Phone;;;\n"
        "T2;C2;2024-01-15 09:30:00 +0000;Phone;;;\n"
        "T3;C3;2024-01-15T09:30:00;Phone;;;\n",
    )

    intake = read_inputs([path], mapping=mapping)

    assert intake.contacts.column("contact_id").to_pylist() == ["T1", "T2"]
    ((row, column, reason),) = problems(intake)
    assert (row, column) == (3, "started_at")
    assert "no time zone" in reason


def test_an_incomplete_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="nothing gives customer_id"):
        load_mapping(
            write(
                tmp_path / "m.yaml",
                "columns: {contact_id: Id, started_at: T}\n"
                "constants: {channel: email, handled_by: agent}\n",
            )
        )


ZENDESK = (
    "Id,Requester,Requester id,Requester email,Subject,Tags,Status,Priority,Via,Ticket type,"
    "Created at,Updated at,Solved at,Satisfaction Score\n"
    "101,Ann,9001,ann@example.com,Card,card_lost vip,solved,normal,Web form,question,"
    "2024-02-01 09:00:00 +0000,2024-02-01 10:00:00 +0000,2024-02-01 10:00:00 +0000,Good\n"
    "102,Bob,9002,bob@example.com,Call,,open,high,Phone call (incoming),incident,"
    "2024-02-01T09:30:00Z,2024-02-01T09:40:00Z,,Offered\n"
    "103,Cy,9003,cy@example.com,Fax,,open,low,Fax,,2024-02-01T09:30:00Z,,,\n"
)


def test_zendesk_tickets_detected_from_the_header(tmp_path: Path) -> None:
    intake = read_inputs([write(tmp_path / "tickets.csv", ZENDESK)])

    assert intake.files[0].format == "zendesk"
    rows = intake.contacts.to_pylist()
    assert [(r["contact_id"], r["channel"], r["intent"]) for r in rows] == [
        ("101", "web", "card_lost"),
        ("102", "voice", None),
    ]
    assert (rows[0]["resolved"], rows[0]["csat"], rows[1]["resolved"], rows[1]["csat"]) == (
        True, 5, False, None,
    )  # fmt: skip
    assert rows[0]["ended_at"] == datetime(2024, 2, 1, 10, tzinfo=UTC)
    ((row, column, reason),) = problems(intake)
    assert (row, column) == (3, "channel")
    assert reason.startswith("must be one of")


CHATWOOT = (
    "id,inbox_id,status,created_at,last_activity_at,first_reply_created_at,labels,"
    "meta.channel,meta.sender.id,meta.assignee.id\n"
    '7,1,resolved,1706778000,1706779800,1706778045,"[""billing"", ""vip""]",'
    "Channel::WebWidget,55,3\n"
    "8,2,resolved,1706778100,1706778400,0,,Channel::WebWidget,56,\n"
    "9,3,open,1706778200,1706778300,1706781800,refund,Channel::Email,57,4\n"
)


def test_chatwoot_conversations(tmp_path: Path) -> None:
    intake = read_inputs([write(tmp_path / "conversations.csv", CHATWOOT)], format="chatwoot")

    rows = {r["contact_id"]: r for r in intake.contacts.to_pylist()}
    # 1706778000 is 2024-02-01 09:00:00 UTC
    assert rows["7"]["started_at"] == datetime(2024, 2, 1, 9, tzinfo=UTC)
    assert (rows["7"]["channel"], rows["7"]["handled_by"], rows["7"]["intent"]) == (
        "chat", "agent", "billing",
    )  # fmt: skip
    # the first reply came 45 s after the start: the chat's wait
    assert rows["7"]["wait_s"] == 45.0
    # no agent was assigned: the assistant (or nobody) handled it, and it never waited
    assert (rows["8"]["handled_by"], rows["8"]["assistant_involved"]) == ("assistant", True)
    assert rows["8"]["wait_s"] is None
    # an email's first reply is not a queue wait
    assert (rows["9"]["channel"], rows["9"]["wait_s"], rows["9"]["resolved"]) == (
        "email", None, False,
    )  # fmt: skip


TECHNION = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\r\n"
    # served by an agent after 20 s in the queue
    "AA0101\t1\t111\t2\tPS\t990201\t9:00:00\t9:00:10\t10\t9:00:10\t9:00:30\t20\tAGENT\t"
    "9:00:30\t9:03:30\t180\tDORIT\r\n"
    # hung up in the queue after 40 s: abandoned
    "AA0101\t2\t222\t1\tNE\t990201\t9:10:00\t9:10:05\t5\t9:10:05\t9:10:45\t40\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
    # hung up in the phone menu, never queued: self-service, not abandoned
    "AA0101\t3\t0\t0\tPS\t990201\t9:20:00\t9:20:30\t30\t0:00:00\t0:00:00\t0\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
    # served by the phone menu (AGENT, NO_SERVER)
    "AA0101\t4\t0\t0\tIN\t990201\t9:30:00\t9:30:20\t20\t0:00:00\t0:00:00\t0\tAGENT\t"
    "9:30:20\t9:31:00\t40\tNO_SERVER\r\n"
    # a phantom: not a call
    "AA0101\t5\t0\t0\tPS\t990201\t9:40:00\t9:40:01\t1\t9:40:01\t9:40:02\t1\tPHANTOM\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
    # served straight from the menu across midnight, no queue
    "AA0102\t6\t333\t2\tNW\t990201\t23:59:00\t23:59:10\t10\t0:00:00\t0:00:00\t0\tAGENT\t"
    "23:59:10\t0:02:10\t180\tSHARON\r\n"
    # a broken time
    "AA0102\t7\t444\t2\tPS\t990201\t25:00:00\t9:00:10\t10\t0:00:00\t0:00:00\t0\tAGENT\t"
    "9:00:10\t9:01:00\t50\tSHARON\r\n"
)


def test_technion_rules(tmp_path: Path) -> None:
    intake = read_inputs([write(tmp_path / "bank.tsv", TECHNION)])

    assert intake.files[0].format == "technion"
    assert intake.files[0].excluded == {"PHANTOM call (not a call)": 1}
    rows = {r["contact_id"]: r for r in intake.contacts.to_pylist()}
    assert sorted(rows) == ["AA0101-1", "AA0101-2", "AA0101-3", "AA0101-4", "AA0102-6"]
    served, abandoned, menu, menu_served, midnight = (
        rows[k] for k in ("AA0101-1", "AA0101-2", "AA0101-3", "AA0101-4", "AA0102-6")
    )
    # Israel is UTC+2 in February
    assert served["started_at"] == datetime(1999, 2, 1, 7, 0, tzinfo=UTC)
    assert (served["handled_by"], served["wait_s"], served["handle_s"]) == ("agent", 20, 180)
    assert (served["abandoned"], served["intent"], served["segment"]) == (
        False, "regular_activity", "priority_2",
    )  # fmt: skip
    assert (abandoned["abandoned"], abandoned["wait_s"], abandoned["handle_s"]) == (True, 40, None)
    assert (menu["abandoned"], menu["handled_by"], menu["wait_s"]) == (False, "self_service", None)
    assert (menu_served["handled_by"], menu_served["handle_s"]) == ("self_service", None)
    # unknown callers (customer 0) are one customer per call
    assert menu["customer_id"] == "call-AA0101-3"
    assert midnight["ended_at"] == datetime(1999, 2, 1, 22, 2, 10, tzinfo=UTC)
    assert problems(intake) == [(7, "vru_entry", "not a time of day H:MM:SS")]


def test_a_mapping_of_options_only_sets_the_zone_of_a_built_in_format(tmp_path: Path) -> None:
    # given the Technion log and a mapping that only says the bank's clock was on UTC
    mapping = load_mapping(write(tmp_path / "zone.yaml", "timezone: UTC\n"))

    intake = read_inputs([write(tmp_path / "bank.tsv", TECHNION)], mapping=mapping)

    served = next(r for r in intake.contacts.to_pylist() if r["contact_id"] == "AA0101-1")
    assert served["started_at"] == datetime(1999, 2, 1, 9, 0, tzinfo=UTC)
