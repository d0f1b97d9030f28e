"""People's display names, asked of Slack (``users.info``) once per person and remembered.

An event names its author by id only. ``users.info`` is rate-limited (Tier 4), and under a burst
every event of one person would ask for the same name, so a lookup under way is shared by the
events that need it, and an event waits for it only so long (then shows the id; the name comes
with the person's next message). A person Slack will not name (``user_not_found``, a missing
scope) is shown by id for a while before Slack is asked again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from ._errors import slack_error_code

__all__ = ["UNNAMED_SECONDS", "SlackNames"]

_log = logging.getLogger(__name__)

UNNAMED_SECONDS = 600.0  # after Slack refused to name a person, their id is shown this long before asking again

Person = tuple[str, str]  # (workspace id, user id)


class SlackNames:
    """Display names by workspace and user.

    Args:
        wait: the longest an event waits for its author's name (seconds).
        clock: monotonic seconds (injected, for tests).
    """

    def __init__(self, wait: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.wait = wait
        self.clock = clock
        self._names: dict[Person, str] = {}
        self._looking_up: dict[Person, asyncio.Task[str]] = {}
        self._refused: dict[Person, float] = {}  # person -> when Slack would not name them

    async def of(self, client: AsyncWebClient, team: str, user: str) -> str:
        """``user``'s display name in ``team``, or their id when Slack will not say, or not in time."""
        if not user:
            return "someone"
        person = (team, user)
        if person in self._names:
            return self._names[person]
        refused_at = self._refused.get(person)
        if refused_at is not None and self.clock() - refused_at < UNNAMED_SECONDS:
            return user  # not asked again for every event of theirs
        lookup = self._looking_up.get(person)
        if lookup is None:
            lookup = self._looking_up[person] = asyncio.create_task(self._look_up(client, person))
            lookup.add_done_callback(lambda _: self._looking_up.pop(person, None))
        try:
            return await asyncio.wait_for(asyncio.shield(lookup), self.wait)
        except TimeoutError:
            return user

    async def _look_up(self, client: AsyncWebClient, person: Person) -> str:
        user = person[1]
        try:
            info = (await client.users_info(user=user))["user"]
        except SlackApiError as exc:
            _log.info("users.info for %s failed (%s); showing the id", user, slack_error_code(exc))
            self._refused[person] = self.clock()
            return user
        profile = info.get("profile") or {}
        name = self._names[person] = profile.get("display_name") or info.get("real_name") or info.get("name") or user
        return str(name)
