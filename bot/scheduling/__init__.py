"""The scheduler: scheduled team runs, timeouts for waits, and housekeeping (APScheduler 3.x).

Owns: when schedules fire (``timing``), which fires are due and claiming them once across
processes (``scheduler``), what to do about unanswered waits (``timeouts``), purging old rows
and work dirs (``housekeeping``), the team file's ``schedules`` and ``timeouts`` (``config``),
and the ``AsyncIOScheduler`` that drives them in a bot process (``service``, imported on its
own: it needs the dispatcher's side of bot/).

Everything but ``service`` is pure of wall-clock time: it is told what time it is.
"""

from .config import ApprovalTimeoutSpec, QuestionTimeoutSpec, ScheduleSpec, TimeoutsSpec
from .housekeeping import Housekeeping, Swept
from .scheduler import DEFAULT_MISFIRE_GRACE, Fire, Scheduler, StartRun, timing_of
from .timeouts import TimeoutAction, TimeoutDecision, WaitTimeouts, decide
from .timing import Timing, format_duration, parse_duration

__all__ = [
    "DEFAULT_MISFIRE_GRACE",
    "ApprovalTimeoutSpec",
    "Fire",
    "Housekeeping",
    "QuestionTimeoutSpec",
    "ScheduleSpec",
    "Scheduler",
    "StartRun",
    "Swept",
    "TimeoutAction",
    "TimeoutDecision",
    "TimeoutsSpec",
    "Timing",
    "WaitTimeouts",
    "decide",
    "format_duration",
    "parse_duration",
    "timing_of",
]
