"""The team file's ``schedules`` and ``timeouts``::

    schedules:
      - {cron: "0 9 * * 1-5", timezone: Europe/Paris, platform: slack, channel: C123, message: "Summarise yesterday"}
      - {name: digest, every: 6h, platform: slack, channel: C123, message: "What changed?"}
    timeouts:
      question: {after: 30m, then: continue, remind: true}   # or then: stop
      approval: {after: 60m, then: deny}                      # or then: stop

A schedule runs the file's own team. Its name is ``name``, else ``<team>-<n>`` (its place in
the list, from 1). A timeout's ``remind: true`` posts one reminder half-way to the deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from storage import NewSchedule

from .timing import Timing, check_timezone, parse_duration

__all__ = [
    "KNOWN_PLATFORMS",
    "ApprovalTimeoutSpec",
    "QuestionTimeoutSpec",
    "ScheduleSpec",
    "TimeoutsSpec",
    "WaitTimeoutSpec",
]

KNOWN_PLATFORMS = ("slack", "discord", "console", "memory")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _seconds(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("write a duration such as 30m, 2h or 1h30m")
    return value if isinstance(value, int) else parse_duration(value)


Duration = Annotated[int, BeforeValidator(_seconds)]
"""Seconds, written ``30m``, ``2h``, ``1h30m`` (a bare number is seconds)."""


class ScheduleSpec(_Strict):
    """One scheduled run of the file's team: when (``cron`` or ``every``), where, with what message."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    cron: str | None = None
    every: Duration | None = None
    timezone: str = "UTC"
    platform: str
    workspace: str = ""  # the workspace (Slack team) id; empty on a single-workspace install
    channel: str = Field(min_length=1)
    message: str = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        check_timezone(value)
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if value not in KNOWN_PLATFORMS:
            raise ValueError(f"unknown platform {value!r}: use one of {', '.join(KNOWN_PLATFORMS)}")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            Timing(cron=" ".join(value.split())).check()
        return value

    @model_validator(mode="after")
    def _when(self) -> ScheduleSpec:
        self.timing.check()
        return self

    @property
    def timing(self) -> Timing:
        return Timing(" ".join(self.cron.split()) if self.cron else None, self.every, self.timezone)

    def to_new(self, team: str, index: int) -> NewSchedule:
        """The row to keep for this entry (``index``: its place in the list, from 0)."""
        timing = self.timing
        return NewSchedule(
            name=self.name or f"{team}-{index + 1}",
            team=team,
            platform=self.platform,
            workspace_id=self.workspace,
            channel_id=self.channel,
            message=self.message,
            cron=timing.cron,
            every_seconds=timing.every_seconds,
            timezone=timing.timezone,
        )


class WaitTimeoutSpec(_Strict):
    """How long a wait may stay unanswered, and whether one reminder goes half-way."""

    after: Duration = Field(gt=0)
    remind: bool = False

    @property
    def deadline_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.after)


class QuestionTimeoutSpec(WaitTimeoutSpec):
    """Unanswered questions: the team goes on without an answer (``continue``) or stops."""

    then: Literal["continue", "stop"] = "continue"


class ApprovalTimeoutSpec(WaitTimeoutSpec):
    """Unanswered approvals: the code or tool call is denied (``deny``), or the run stops."""

    then: Literal["deny", "stop"] = "deny"


class TimeoutsSpec(_Strict):
    """Per kind of wait; a kind left out waits for ever."""

    question: QuestionTimeoutSpec | None = None
    approval: ApprovalTimeoutSpec | None = None

    def for_kind(self, kind: str) -> QuestionTimeoutSpec | ApprovalTimeoutSpec | None:
        if kind == "approval":
            return self.approval
        if kind == "question":
            return self.question
        return None
