"""Answering Discord's interactions (button presses, the slash command) once the bot has kept them.

Discord shows "This interaction failed" unless an interaction gets its first answer within 3
seconds, and never sends it again. So the platform hands the event to the bot first (the bot
keeps it in its inbox) and answers after: with a deferral or a short note when it was kept,
with a private "try again" when it could not be kept. If keeping it takes longer than
:data:`ANSWER_WITHIN`, the interaction is answered anyway and a failure still gets its note,
as a follow-up.

A private answer the bot gives while the event is being handed over (a channel command is
answered there and then) is the interaction's first answer itself; one given later is a
follow-up. An :class:`Answer` keeps the two from crossing.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

__all__ = ["ANSWER_WITHIN", "NOT_KEPT", "Answer", "RecentAnswers", "answer_after", "first_answer"]

_log = logging.getLogger(__name__)

ANSWER_WITHIN = 2.5  # seconds; Discord's limit is 3
CHANNEL_COMMANDS = ("schedule", "schedules")  # answered privately later, also when typed in a thread
NOT_KEPT = "threadcrew could not take this in just now, so nothing was done. Please try again in a moment."
REMEMBERED_INTERACTIONS = 1000


class Answer:
    """The answers to one interaction: its first one, then follow-ups, one at a time."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self._lock = asyncio.Lock()

    @property
    def expired(self) -> bool:
        return self.interaction.is_expired()

    async def acknowledge(self, first: Callable[[], Awaitable[object]]) -> None:
        """Give ``first()`` as the first answer, unless the interaction has one already."""
        async with self._lock:
            if not self.interaction.response.is_done():
                await first()

    async def privately(self, text: str) -> str:
        """Tell the person who interacted, alone: the first answer, else a follow-up.

        Returns the follow-up's message id ("" for a first answer: Discord gives none).

        Raises:
            discord.HTTPException: Discord refused.
        """
        none = discord.AllowedMentions.none()
        async with self._lock:
            if not self.interaction.response.is_done():
                await self.interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
                return ""
            sent = await self.interaction.followup.send(text, ephemeral=True, allowed_mentions=none, wait=True)
            return str(sent.id)


class RecentAnswers:
    """Each person's latest interaction in each thread or channel (the newest ones only): a private
    answer to that person there goes as its follow-up."""

    def __init__(self, limit: int = REMEMBERED_INTERACTIONS) -> None:
        self.limit = limit
        self._answers: collections.OrderedDict[tuple[str, str], Answer] = collections.OrderedDict()

    def remember(self, where: str, user: str, interaction: discord.Interaction) -> Answer:
        """Keep ``interaction`` as ``user``'s latest in ``where`` (a thread's or channel's id)."""
        answer = self._answers[(where, user)] = Answer(interaction)
        self._answers.move_to_end((where, user))
        while len(self._answers) > self.limit:
            self._answers.popitem(last=False)
        return answer

    def latest(self, where: str, user: str) -> Answer | None:
        """``user``'s latest interaction in ``where``, if one is remembered."""
        return self._answers.get((where, user))


async def first_answer(interaction: discord.Interaction) -> None:
    """A kept interaction's first answer. A press: deferred (the run answers in the thread). The
    command in a channel: "thinking" until the bot answers privately; in a thread: the person is
    told at once that it was heard, as the run answers in the thread (the schedule commands are the
    channel's: answered privately later wherever they are typed)."""
    data: Any = interaction.data or {}
    sub = next((o.get("name") for o in data.get("options", ()) if o.get("type") in (1, 2)), "help")
    if interaction.type == discord.InteractionType.component:
        await interaction.response.defer()
    elif isinstance(interaction.channel, discord.Thread) and sub not in CHANNEL_COMMANDS:
        await interaction.response.send_message(f"`{sub}` goes to this thread's run.", ephemeral=True)
    else:
        await interaction.response.defer(ephemeral=True, thinking=True)


async def answer_after(
    keep: Awaitable[None],
    answer: Answer,
    first: Callable[[], Awaitable[object]],
    *,
    within: float = ANSWER_WITHIN,
) -> None:
    """Await ``keep`` (the bot keeps the event), then answer with ``first()``; or, when keeping
    failed, tell the person privately that nothing was done (:data:`NOT_KEPT`)."""
    keeping = asyncio.ensure_future(keep)
    done, _ = await asyncio.wait({keeping}, timeout=within)
    if not done:
        _log.warning("keeping a Discord interaction took over %g s: answered before it was kept", within)
        await answer.acknowledge(first)
    try:
        await keeping
    except Exception as exc:
        _log.warning("could not keep a Discord interaction (%s); the person is asked to try again", exc)
        await answer.privately(NOT_KEPT)
        return
    await answer.acknowledge(first)
