"""A test team ("crew") and the model that plays it, behind the scripted OpenAI server.

The team: ``planner``, ``coder`` (with a tool), ``reviewer``, the people as ``user``, and
``runner`` for code. :class:`Crew` answers the server's requests: it picks speakers by
``Crew.after`` (who follows whom) and speaks for each agent: by default a line that names the
thread's task, so a test can tell threads apart; ``Crew.say`` scripts a role's next replies and
``Crew.hold`` keeps a role's next reply back until the test lets it go.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from adapters import InMemoryPlatform, Posted, ThreadEvent
from agents import content_str
from bot.app import Bot
from bot.dispatcher import Dispatcher
from bot.settings import Settings
from bot.teams import TeamCatalog
from storage import Database, MessageRecord
from tests.fakes.openai_server import Reply, ScriptedOpenAI, text

QUESTION = "user, does this look right?"
DONE = "Looks complete. TERMINATE"
PLOT = """Here is the chart:
```python
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.bar(range(1, 11), [i * i for i in range(1, 11)])
plt.savefig("squares.png")
print("saved squares.png")
```"""  # the coder's reply that charts the squares: code to approve, its output and a PNG


def word_count(sentence: str) -> int:
    """How many words ``sentence`` has."""
    return len(sentence.split())


def team_config(base_url: str, **overrides: Any) -> dict[str, Any]:
    """The crew's team file as a dict; ``overrides`` replace top-level keys."""
    config: dict[str, Any] = {
        "name": "crew",
        "models": {
            "default": {"model": "gpt-4o-mini", "base_url": base_url, "api_key": "sk-test-crew-0123", "max_retries": 0}
        },
        "agents": [
            {
                "name": "planner",
                "system_message": "Planner. You plan the work.",
                "persona": {"display_name": "Plan Bot", "icon_emoji": ":memo:"},
            },
            {"name": "coder", "system_message": "Coder. You write code.", "tools": ["tests.bot.crew:word_count"]},
            {"name": "reviewer", "system_message": "Reviewer. You review."},
        ],
        "human": {"name": "user"},
        "code_execution": {"executor": "local", "approval": "required", "timeout": 30},
    }
    config.update(overrides)
    return config


def write_team(path: Path, base_url: str, **overrides: Any) -> Path:
    path.write_text(yaml.safe_dump(team_config(base_url, **overrides), sort_keys=False))
    return path


class Crew:
    """The model behind the crew: a responder for :class:`ScriptedOpenAI`."""

    def __init__(self) -> None:
        self.after = {"user": "planner", "planner": "coder", "coder": "reviewer", "reviewer": "user"}
        self._scripted: dict[str, deque[Reply]] = defaultdict(deque)
        self._holds: dict[str, deque[threading.Event]] = defaultdict(deque)
        self._seen: dict[str, int] = defaultdict(int)
        self._arrived = threading.Condition()
        self.requests: list[tuple[str, list[dict[str, Any]]]] = []  # (role, messages)

    # -- steering it -----------------------------------------------------------------------------

    def say(self, role: str, *replies: Reply | str) -> None:
        """``role``'s next replies, in order (then the default ones again)."""
        self._scripted[role].extend(text(r) if isinstance(r, str) else r for r in replies)

    def hold(self, role: str) -> threading.Event:
        """Keep ``role``'s next reply back until the returned event is set."""
        gate = threading.Event()
        self._holds[role].append(gate)
        return gate

    def wait_arrived(self, role: str, count: int = 1, within: float = 20) -> None:
        """Block until ``count`` requests for ``role`` have come in."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: self._seen[role] >= count, within):
                raise TimeoutError(f"{count} request(s) for {role} did not come within {within} s")

    async def arrived(self, role: str, count: int = 1, within: float = 20) -> None:
        """Wait until ``count`` requests for ``role`` have come in."""
        await asyncio.to_thread(self.wait_arrived, role, count, within)

    def seen(self, role: str) -> int:
        return self._seen[role]

    def requests_of(self, role: str) -> list[list[dict[str, Any]]]:
        return [messages for r, messages in self.requests if r == role]

    # -- answering -------------------------------------------------------------------------------

    def __call__(self, body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        system = content_str(messages[0].get("content"))
        # "Planner. You plan." (the crew) or "You are the planner of ..." (the demo team)
        found = re.match(r"(?:You are the )?(\w+)", system)
        role = "selector" if system.startswith("You direct") else (found.group(1).lower() if found else "?")
        with self._arrived:
            self.requests.append((role, messages))
            self._seen[role] += 1
            self._arrived.notify_all()
        reply = self._scripted[role].popleft() if self._scripted[role] else self._default(role, messages)
        if self._holds[role]:
            reply = replace(reply, hold=self._holds[role].popleft())
        return reply

    def _default(self, role: str, messages: list[dict[str, Any]]) -> Reply:
        if role == "selector":
            history = [m for m in messages[1:-1] if m.get("name")]
            last = history[-1]["name"] if history else "user"
            return text(self.after.get(last, "planner"))
        people = [content_str(m.get("content")) for m in messages if m.get("name") == "user"]
        task = people[-1] if people else "?"
        if role == "reviewer":
            asked = [i for i, m in enumerate(messages) if QUESTION in content_str(m.get("content"))]
            answered = asked and any(m.get("name") == "user" for m in messages[asked[-1] + 1 :])
            return text(DONE if answered else f"Reviewed '{task}'. {QUESTION}")
        return text(f"{role} on '{task}'")


@dataclass
class RunningBot:
    bot: Bot
    platform: InMemoryPlatform
    db: Database  # a second handle on the bot's database, for the test to look

    @property
    def dispatcher(self) -> Dispatcher:
        assert self.bot.dispatcher is not None
        return self.bot.dispatcher

    async def idle(self) -> None:
        """Until every thread's work is done (runs finished or waiting for people)."""
        await self.dispatcher.wait_idle()

    async def conversation(self, thread: str) -> Any:
        found = await self.db.stores.conversations.find("memory", "W1", "C1", thread)
        assert found is not None, f"no conversation in thread {thread}"
        return found

    async def transcript(self, thread: str) -> list[MessageRecord]:
        record = await self.conversation(thread)
        return await self.db.stores.messages.list_since(record.id)


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Test settings; ``overrides`` set more of them (``console=True``...)."""
    return Settings(data_dir=data_dir, database_url=None, step_timeout=30, drain_seconds=10, http_port=0, **overrides)


@asynccontextmanager
async def running_bot(
    data_dir: Path,
    team: Path,
    platform: InMemoryPlatform | None = None,
    settings: dict[str, Any] | Settings | None = None,
) -> AsyncIterator[RunningBot]:
    """The bot, serving ``team`` on an in-memory platform, with its SQLite database in ``data_dir``
    (``settings``: more settings, by name, or the whole settings)."""
    catalog = TeamCatalog()
    catalog.add_file(team, default=True)
    platform = platform or InMemoryPlatform()
    settings_ = settings if isinstance(settings, Settings) else settings_for(data_dir, **(settings or {}))
    bot = Bot(settings_, platform, catalog)
    task = await bot.start()  # it failed to start: raises why
    db = Database(settings_.effective_database_url)
    try:
        yield RunningBot(bot, platform, db)
    finally:
        await db.close()
        await platform.close()
        await task


@asynccontextmanager
async def crew_bot(
    server: ScriptedOpenAI,
    tmp_path: Path,
    platform: InMemoryPlatform | None = None,
    settings: dict[str, Any] | Settings | None = None,
    **team: Any,
) -> AsyncIterator[RunningBot]:
    """The bot serving the crew (``team`` overrides its file's keys), its data in ``tmp_path/data``."""
    team_file = write_team(tmp_path / "crew.yaml", server.base_url, **team)
    async with running_bot(tmp_path / "data", team_file, platform, settings) as bot:
        yield bot


async def until_waiting(bot: RunningBot, thread: str = "t1", task: str = "chart the squares") -> ThreadEvent:
    """Mention the bot with ``task`` and wait until the team waits for people; returns the mention."""
    said = await bot.platform.mention(thread, task)
    await bot.platform.wait_for(in_thread(thread))
    return said


Condition = Callable[[list[Posted]], bool]


def in_thread(thread: str) -> Condition:
    """A wait_for condition: the thread's latest post asks the people to answer."""

    def holds(posts: list[Posted]) -> bool:
        mine = [p for p in posts if p.thread.thread_id == thread]
        return bool(mine) and "waiting for you" in mine[-1].text

    return holds


def last_starts(prefix: str) -> Condition:
    """A wait_for condition: the latest post starts with ``prefix``."""
    return lambda posts: bool(posts) and posts[-1].text.startswith(prefix)


def authors(posts: list[Posted]) -> list[str]:
    return [p.author for p in posts]
