"""Acting from the console: the thread's own events, by the signed-in operator.

A stop, a pause, an approval or an answer becomes the ThreadEvent a person in the thread would
cause, with the operator as its author (``console:<name>``), handed to the dispatcher: the
same rules apply (only the team's approvers approve), the thread shows what happened, and the
waits record who answered.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from adapters import Author, OutboundMessage, Persona, ThreadEvent, ThreadRef, defuse_mass_mentions
from storage import ConversationRecord

from ..session import thread_of
from .auth import PREFIX, operator_name
from .pages import requested_conversation

if TYPE_CHECKING:
    from .console import Console

__all__ = ["ACTIONS", "Actions", "operator"]

COMMANDS = ("stop", "pause", "resume")
BUTTONS = ("approve", "reject", "continue", "choose")
ACTIONS = (*COMMANDS, *BUTTONS, "say")
LIVE = ("running", "waiting", "paused", "retrying")  # a run that hears what is said in its thread


def operator(name: str) -> Author:
    """The author of what a signed-in operator does."""
    return Author(f"console:{name}", f"{name} (console)")


class Actions:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def act(self, request: web.Request) -> web.Response:
        """One action on a conversation (a form's ``action``, ``value`` and ``text``), then back to it."""
        record = await requested_conversation(self.console, request)
        form = await request.post()
        action, value, text = (str(form.get(k, "")) for k in ("action", "value", "text"))
        if action not in ACTIONS:
            raise web.HTTPBadRequest(text=f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
        thread = thread_of(record)
        dispatcher = self.console.dispatcher
        if thread.platform not in dispatcher.rt.served:
            raise web.HTTPConflict(text=f"this bot process does not serve {thread.platform!r}; act from its own")
        who = operator(operator_name(request))
        if action in ("approve", "reject") and not await self._may_approve(record, who):
            raise web.HTTPForbidden(text=f"{who.id} is not one of the approvers of team {record.team!r}")
        key = f"console:{uuid.uuid4().hex}"
        if action in COMMANDS:
            event = ThreadEvent("command", thread, who, key, command=action)
        elif action in BUTTONS:
            event = ThreadEvent("button", thread, who, key, action_id=action, value=value)
        else:
            if not text.strip():
                raise web.HTTPBadRequest(text="write what to say to the team")
            if record.status not in LIVE:
                raise web.HTTPConflict(
                    text=f"nothing is running in this thread ({record.status}): nobody would hear it"
                )
            event = ThreadEvent("message", thread, who, key, text=text, message_id=await self._post(thread, who, text))
        await dispatcher.handle(event)
        return web.Response(status=303, headers={"Location": f"{PREFIX}/c/{record.id}?done={action}"})

    async def _may_approve(self, record: ConversationRecord, who: Author) -> bool:
        """The team's rule, asked up front so a refusal is shown here (the session asks again)."""
        with tempfile.TemporaryDirectory(prefix="threadcrew-console-") as work:
            team = self.console.catalog.build(record.team, Path(work))
            try:
                return team.may_approve(who.id)
            finally:
                await team.close()

    async def _post(self, thread: ThreadRef, who: Author, text: str) -> str:
        """Put the operator's words in the thread (people there see them); returns the message's id."""
        platform = self.console.dispatcher.rt.platform_for(thread)
        persona = Persona("console", who.display_name)
        return await platform.post(thread, OutboundMessage(persona, defuse_mass_mentions(text)))
