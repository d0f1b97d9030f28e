"""Timeouts for waits: what to do about a question or an approval nobody answers.

:func:`decide` is the policy, a function of the wait's row, the team's setting and the clock:
nothing yet, one reminder (half-way to the deadline, when asked for), or the timeout's action
(go on without an answer, deny, stop). The deadline is the row's ``expires_at``, else its
``created_at`` plus the team's ``after``: both are stored, so a restart keeps them, and a bot
that was down when a deadline passed acts on it when it starts.

:class:`WaitTimeouts` applies the policy to every open wait. A reminder is claimed on the
wait's row first (``reminded_at``, kept as long as the wait: event keys are purged after days,
and a wait may last longer). A reminder and an action are each a synthetic button press keyed
by the wait, which the dispatcher takes once across processes (whichever sees it first); the
thread's session stores the note as a message, with the wait's answer, and the outbox posts it.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from storage import ConversationRecord, Database, WaitRecord

from .config import TimeoutsSpec, WaitTimeoutSpec
from .timing import format_duration

__all__ = ["Expire", "TimeoutAction", "TimeoutDecision", "WaitTimeouts", "deadline_of", "decide"]

_log = logging.getLogger(__name__)


class TimeoutAction(enum.Enum):
    REMIND = "remind"
    CONTINUE = "continue"  # the question's answer is empty: the team goes on
    DENY = "deny"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class TimeoutDecision:
    """What to do about ``wait_id`` now; ``note`` says it in the thread."""

    wait_id: int
    action: TimeoutAction
    note: str


def deadline_of(wait: WaitRecord, policy: WaitTimeoutSpec) -> dt.datetime:
    """When the wait's time is up: its stored deadline, else its opening plus ``policy.after``."""
    return wait.expires_at or wait.created_at + policy.deadline_after


def decide(wait: WaitRecord, timeouts: TimeoutsSpec, now: dt.datetime) -> TimeoutDecision | None:
    """What to do about ``wait`` at ``now`` under the team's ``timeouts`` (None: nothing, yet or ever).

    A reminder is proposed once the wait is past half-way, before its deadline, until the
    wait's row says it went (the caller claims it there).
    """
    policy = timeouts.for_kind(wait.kind)
    if policy is None or not wait.is_open:
        return None
    deadline = deadline_of(wait, policy)
    waited = _minutes(deadline - wait.created_at)
    if now >= deadline:
        then = getattr(policy, "then", "stop")
        action = {"continue": TimeoutAction.CONTINUE, "deny": TimeoutAction.DENY}.get(then, TimeoutAction.STOP)
        what = {
            TimeoutAction.CONTINUE: "the team goes on without an answer",
            TimeoutAction.DENY: "it is denied",
            TimeoutAction.STOP: "the run stops",
        }[action]
        return TimeoutDecision(wait.id, action, f"Nobody answered within {waited}: {what}.")
    if policy.remind and wait.reminded_at is None and now >= wait.created_at + (deadline - wait.created_at) / 2:
        left = _minutes(deadline - now)
        asked = "an approval" if wait.kind == "approval" else "an answer"
        return TimeoutDecision(
            wait.id, TimeoutAction.REMIND, f"Reminder: the team is waiting for {asked} ({left} left)."
        )
    return None


def _minutes(span: dt.timedelta) -> str:
    """``span`` to the nearest minute (at least one), as ``1h30m``: the row's times differ by microseconds."""
    return format_duration(max(1, round(span.total_seconds() / 60)) * 60)


Expire = Callable[[ConversationRecord, WaitRecord, TimeoutDecision], Awaitable[bool]]
"""Acts on a decision in the wait's thread (a reminder, or the wait answered by the timeout); returns
whether this call took it (False: an earlier check, here or in another process, did)."""


class WaitTimeouts:
    """Applies each team's timeouts to the open waits.

    Args:
        db: the database with the ``waits`` rows.
        timeouts: the timeouts of a team, by its name.
        act: reminds, or answers the wait as the decision says (see :data:`Expire`).
        platforms: the platforms this process serves (None: all).
    """

    def __init__(
        self,
        db: Database,
        timeouts: Callable[[str], TimeoutsSpec],
        act: Expire,
        *,
        platforms: Collection[str] | None = None,
    ) -> None:
        self.db = db
        self.timeouts = timeouts
        self.act = act
        self.platforms = set(platforms) if platforms is not None else None

    async def check(self, now: dt.datetime | None = None) -> list[TimeoutDecision]:
        """Act on every open wait whose reminder or deadline has come; returns what this process did."""
        now = now or self.db.clock()
        stores = self.db.stores
        done: list[TimeoutDecision] = []
        for wait in await stores.waits.open_waits():
            conversation = await stores.conversations.get(wait.conversation_id)
            if self.platforms is not None and conversation.platform not in self.platforms:
                continue
            decision = decide(wait, self.timeouts(conversation.team), now)
            if decision is None:
                continue
            reminding = decision.action is TimeoutAction.REMIND
            if reminding and not await stores.waits.claim_reminder(wait.id):
                continue  # reminded already, here or elsewhere
            try:
                if not await self.act(conversation, wait, decision):
                    continue  # taken already, here or elsewhere
            except Exception:
                _log.exception("the timeout of wait %s could not act", wait.id)
                continue
            done.append(decision)
        return done
