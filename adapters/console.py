"""The console: the terminal is one thread, the embedded default platform.

You type as a person (``/as bob`` switches who you are); every line is said to the bot (a
mention): it starts a run, answers the team's question, or joins the running conversation.
``/stop``, ``/pause``, ``/resume`` and ``/status`` control the run. Agents print under their
persona's name, buttons are numbered (type the number), and files the agents produce are
saved under ``files_dir`` with their path shown.
What was posted is remembered in ``posted_log``, so that a restarted bot does not print a
message twice; the question the team waits on (the last message with buttons, until it shows
what was decided) is remembered beside it, and a restarted console prints it again with its
numbers, so that it can still be answered.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from .render import defuse_mass_mentions
from .thread import (
    Author,
    Capabilities,
    ChannelAccess,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    ThreadEvent,
    ThreadRef,
)

__all__ = ["ConsolePlatform"]

COMMANDS = ("stop", "pause", "resume", "status")


class ConsolePlatform:
    """One thread on the terminal."""

    name = "console"
    # Names print before each message; buttons are numbered; files are saved; nothing printed changes.
    capabilities = Capabilities(personas=True, buttons=True, ephemeral=True, uploads=True, command="/")

    def __init__(
        self,
        files_dir: Path,
        *,
        posted_log: Path | None = None,
        person: str = "you",
        opening: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        """``opening``: a first message, as if the person had typed it (the demo's task)."""
        self.files_dir = files_dir
        self.posted_log = posted_log
        self.person = person
        self.opening = opening
        self.thread = ThreadRef("console", "local", "terminal", "main")
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._buttons: list[tuple[str, str, str]] = []  # (action_id, value, message id)
        # The question the team waits on, for a restarted console (see the module's docstring).
        self._question = posted_log.with_name("console-question.json") if posted_log is not None else None
        self._lines: asyncio.Queue[str | None] | None = None
        self._closed = False

    async def run(self, on_event: EventHandler) -> None:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._lines = lines
        self._ask_again()
        if self.opening:
            self._write(f"{self.person}: {self.opening}")
            lines.put_nowait(self.opening)
        # A daemon thread reads the terminal: a blocked read must not keep the process alive.
        threading.Thread(target=self._read, args=(loop, lines), name="console-input", daemon=True).start()
        while not self._closed and (line := await lines.get()) is not None:
            event = self._event(line.rstrip("\n"))
            if event is not None:
                await on_event(event)

    def _read(self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
        try:
            for line in iter(self._stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)  # end of input
        except RuntimeError:  # the loop closed while we waited for a line
            return

    def _event(self, line: str) -> ThreadEvent | None:
        text = line.strip()
        author = Author(self.person, self.person)
        key = uuid.uuid4().hex
        if text.startswith("/as "):
            self.person = text[4:].strip() or self.person
            self._write(f"(you are now {self.person})")
            return None
        if text.startswith("/") and text[1:].split(" ")[0] in COMMANDS:
            return ThreadEvent("command", self.thread, author, key, command=text[1:].split(" ")[0])
        if text.isdigit() and self._buttons and 1 <= int(text) <= len(self._buttons):
            action, value, ref = self._buttons[int(text) - 1]
            return ThreadEvent("button", self.thread, author, key, action_id=action, value=value, ref_message_id=ref)
        if not text:
            return None
        # Everything typed here is said to the bot: a mention.
        return ThreadEvent("mention", self.thread, author, key, text=text, message_id=key)

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        message_id = f"console-{uuid.uuid4().hex[:8]}"
        lines = [f"\n{message.persona.label}:", defuse_mass_mentions(message.text)]
        for attachment in message.attachments:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / attachment.name
            path.write_bytes(attachment.data)
            lines.append(f"[file: {path}]")
        if message.buttons:
            self._buttons = [(b.action_id, b.value, message_id) for b in message.buttons]
            lines.append(_numbered(b.label for b in message.buttons))
            self._remember_question(message_id, message)
        self._write("\n".join(lines))
        if self.posted_log is not None and message.key:
            self.posted_log.parent.mkdir(parents=True, exist_ok=True)
            with self.posted_log.open("a") as log:
                log.write(f"{message.key}\t{message_id}\n")
        return message_id

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        # The terminal cannot change what it printed: show what changed (a decision is appended).
        last = defuse_mass_mentions(message.text).rstrip().rpartition("\n\n")[2]
        self._write(f"({message.persona.label}: {last})")
        question = self._remembered() if not message.buttons else None
        if question is not None and question["message_id"] == message_id:
            assert self._question is not None
            self._question.unlink()  # decided: nothing to ask again

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        if self.posted_log is None or not key or not self.posted_log.exists():
            return None
        for line in self.posted_log.read_text().splitlines():
            posted_key, _, message_id = line.partition("\t")
            if posted_key == key:
                return message_id
        return None

    async def set_status(self, thread: ThreadRef, status: str | None) -> None:
        """The console shows each message as it comes; it has no status line."""

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        return None  # a terminal cannot take back what it printed: replies print whole

    @property
    def connected(self) -> bool:
        return not self._closed

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return ()

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        """The terminal is the one thread: the message is printed there."""
        await self.post(self.thread, message)
        return self.thread

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        """The terminal takes every run."""
        return ChannelAccess(True)

    async def close(self) -> None:
        self._closed = True
        if self._lines is not None:
            self._lines.put_nowait(None)

    def _remember_question(self, message_id: str, message: OutboundMessage) -> None:
        if self._question is None:
            return
        buttons = [[b.action_id, b.value, b.label] for b in message.buttons]
        question = {"message_id": message_id, "by": message.persona.label, "text": message.text, "buttons": buttons}
        self._question.parent.mkdir(parents=True, exist_ok=True)
        self._question.write_text(json.dumps(question))

    def _remembered(self) -> dict[str, Any] | None:
        """The question remembered (see :meth:`_remember_question`), if any."""
        if self._question is None or not self._question.exists():
            return None
        return dict(json.loads(self._question.read_text()))

    def _ask_again(self) -> None:
        """The question the team still waits on (asked before a restart), with its numbers again."""
        question = self._remembered()
        if question is None:
            return
        self._buttons = [(action, value, question["message_id"]) for action, value, _ in question["buttons"]]
        text = defuse_mass_mentions(question["text"])
        labels = _numbered(label for _, _, label in question["buttons"])
        self._write(f"\n(still waiting) {question['by']}:\n{text}\n{labels}")

    def _write(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()


def _numbered(labels: Iterable[str]) -> str:
    return "  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1))
