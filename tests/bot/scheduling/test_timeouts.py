"""Timeouts for waits on a fake clock: remind once half-way, then go on, deny or stop; deadlines
come from the rows, so a restart keeps them and a deadline passed while down is acted on at start."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.scheduling import Housekeeping, TimeoutAction, TimeoutsSpec, WaitTimeouts, decide
from storage import ConversationRecord, Database, WaitRecord
from tests.bot.scheduling.conftest import FakeClock

OPENED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TEAM = TimeoutsSpec.model_validate(
    {"question": {"after": "30m", "then": "continue", "remind": True}, "approval": {"after": "1h", "then": "deny"}}
)


def wait(kind: str = "question", **changes: object) -> WaitRecord:
    row = WaitRecord(1, 7, kind, "user", "?", None, None, None, OPENED, None, None, None, None)
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def at(minutes: int) -> dt.datetime:
    return OPENED + dt.timedelta(minutes=minutes)


def test_a_question_is_reminded_half_way_then_goes_on_at_its_deadline() -> None:
    assert decide(wait(), TEAM, at(14)) is None
    reminder = decide(wait(), TEAM, at(15))
    assert reminder is not None
    assert reminder.action is TimeoutAction.REMIND
    assert reminder.note == "Reminder: the team is waiting for an answer (15m left)."
    expired = decide(wait(), TEAM, at(30))
    assert expired is not None
    assert (expired.action, expired.note) == (
        TimeoutAction.CONTINUE,
        "Nobody answered within 30m: the team goes on without an answer.",
    )


@pytest.mark.parametrize(
    ("timeouts", "kind", "action", "note"),
    [
        ({"approval": {"after": "1h"}}, "approval", TimeoutAction.DENY, "Nobody answered within 1h: it is denied."),
        ({"approval": {"after": "1h", "then": "stop"}}, "approval", TimeoutAction.STOP, "within 1h: the run stops."),
        ({"question": {"after": "1h", "then": "stop"}}, "question", TimeoutAction.STOP, "within 1h: the run stops."),
    ],
)
def test_the_team_chooses_what_a_timeout_does(
    timeouts: dict[str, object], kind: str, action: TimeoutAction, note: str
) -> None:
    spec = TimeoutsSpec.model_validate(timeouts)
    assert decide(wait(kind), spec, at(59)) is None  # no reminder unless asked for
    decision = decide(wait(kind), spec, at(61))
    assert decision is not None
    assert decision.action is action
    assert decision.note.endswith(note)


def test_no_timeout_for_answered_waits_kinds_without_one_or_teams_without_any() -> None:
    answered = wait(answered_at=at(1), answer="yes", answered_by="U1")
    assert decide(answered, TEAM, at(600)) is None
    assert decide(wait("speaker"), TEAM, at(600)) is None
    assert decide(wait(), TimeoutsSpec(), at(600)) is None


def test_a_stored_deadline_wins_over_the_teams_setting() -> None:
    decision = decide(wait(expires_at=at(10)), TEAM, at(10))
    assert decision is not None
    assert decision.action is TimeoutAction.CONTINUE
    assert decision.note.startswith("Nobody answered within 10m")


async def test_reminders_go_once_and_deadlines_passed_while_down_act_at_start(db: Database, clock: FakeClock) -> None:
    clock.now = OPENED
    conversation = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t1", team="crew")
    question = await db.stores.waits.open(conversation.id, kind="question", agent="user", prompt="?")
    approval = await db.stores.waits.open(conversation.id, kind="approval", agent="runner", prompt="run it?")
    done: list[tuple[int, TimeoutAction]] = []

    async def act(record: ConversationRecord, row: WaitRecord, decision: object) -> bool:
        """As the dispatcher does: each reminder or answer is an event keyed by the wait, taken once."""
        assert record.id == conversation.id
        action = decision.action  # type: ignore[attr-defined]
        key = f"{'remind' if action is TimeoutAction.REMIND else 'timeout'}:{row.id}"
        taken = await db.stores.events.claim("memory", key)
        if taken:
            done.append((row.id, action))
        return taken

    def process() -> WaitTimeouts:  # a bot process: each one checks the same rows
        return WaitTimeouts(db, lambda team: TEAM if team == "crew" else TimeoutsSpec(), act)

    first, second = process(), process()
    await first.check(at(20))
    await second.check(at(20))
    await first.check(at(25))
    assert done == [(question.id, TimeoutAction.REMIND)]  # once, across both processes

    # Both processes are down past the deadlines; the one that starts acts on them.
    clock.now = at(120)
    await process().check(at(120))
    assert done[1:] == [(question.id, TimeoutAction.CONTINUE), (approval.id, TimeoutAction.DENY)]
    await db.stores.waits.answer(question.id, "(continue)", "threadcrew:timeout")
    done.clear()
    assert await process().check(at(121)) == []  # the approval is still open, but its timeout was taken
    assert done == []


async def test_a_long_wait_is_reminded_once_though_housekeeping_forgets_the_reminders_key(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    clock.now = OPENED
    month = TimeoutsSpec.model_validate({"question": {"after": "30d", "then": "continue", "remind": True}})
    conversation = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t1", team="crew")
    question = await db.stores.waits.open(conversation.id, kind="question", agent="user", prompt="?")
    reminded: list[int] = []

    async def act(record: ConversationRecord, row: WaitRecord, decision: object) -> bool:
        """As the dispatcher does: the reminder is an event keyed by the wait, taken once while kept."""
        if await db.stores.events.claim("memory", f"remind:{row.id}"):
            reminded.append(row.id)
            return True
        return False

    timeouts = WaitTimeouts(db, lambda team: month, act)
    clock.now = OPENED + dt.timedelta(days=15)
    await timeouts.check(clock.now)
    assert reminded == [question.id]
    [open_wait] = await db.stores.waits.open_waits()
    assert open_wait.reminded_at == clock.now
    clock.now = OPENED + dt.timedelta(days=23)
    assert (await Housekeeping(db, tmp_path / "work").sweep(clock.now)).event_keys == 1  # the key is gone
    assert await timeouts.check(clock.now) == []
    assert reminded == [question.id]  # the wait's row remembers
