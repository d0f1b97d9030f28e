"""Teams: built from a team file or registered from Python, one fresh set of agents per thread.

A :class:`Team` is what a thread's conversation runs: a group chat manager, its specialists,
``human`` (a user proxy that stands for the people in the thread and asks them through a
durable wait instead of blocking), and ``runner`` (runs code and tools, after approval).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters import MentionPolicy, Persona
from agents import (
    AssistantAgent,
    AsyncCodeExecutor,
    CodeBlock,
    ConversableAgent,
    DeferredInput,
    DockerCommandLineCodeExecutor,
    FunctionModelClient,
    GroupChat,
    GroupChatManager,
    LocalCommandLineCodeExecutor,
    Message,
    TerminationCondition,
    UserProxyAgent,
    content_str,
)
from agents.termination import ChatProgress
from storage import NewSchedule

from .errors import TeamConfigError
from .file_labels import without_file_names
from .scheduling.config import TimeoutsSpec
from .team_config import ModelSpec, TeamConfig, TriggerSpec, load_team_config

__all__ = ["APPROVAL_PREFIX", "FileCheck", "Team", "TeamCatalog", "ThreadBudget", "build_team"]

APPROVAL_PREFIX = "approve:"


@dataclass(frozen=True)
class ThreadBudget(TerminationCondition):
    """A thread's budget: tokens and cost across its runs, and messages in one run."""

    max_tokens: int | None = None
    max_cost: float | None = None
    max_rounds: int | None = None
    spent_tokens: int = 0
    spent_cost: float = 0.0

    def check(self, progress: ChatProgress) -> str | None:
        tokens = self.spent_tokens + sum(u.total_tokens for _, u in progress.usage.models())
        cost = self.spent_cost + progress.usage.total_cost
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return f"this thread has used {tokens:,} of its {self.max_tokens:,} tokens"
        if self.max_cost is not None and cost >= self.max_cost:
            return f"this thread has spent ${cost:.2f} of its ${self.max_cost:.2f}"
        if self.max_rounds is not None and len(progress.messages) >= self.max_rounds:
            return f"this run reached its {self.max_rounds} messages"
        return None


class _TeamChat(GroupChat):
    """A team's group chat: its selector sees the files people attach without their names."""

    def selection_view(self, message: Message) -> Message:
        return super().selection_view(without_file_names(message))


class ThreadApproval:
    """Code runs only after someone allowed presses Approve: a durable wait with two choices."""

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name
        self._ask = DeferredInput()

    async def __call__(self, blocks: list[CodeBlock]) -> str | None:
        lines = sum(len(b.code.splitlines()) for b in blocks)
        languages = ", ".join(sorted({b.language or "code" for b in blocks}))
        what = f"{len(blocks)} code blocks" if len(blocks) > 1 else "the code"
        approval = await self._ask.get_approval(
            f"{self.agent_name} wants to run {what} above ({languages}, {lines} lines).",
            agent_name=APPROVAL_PREFIX + self.agent_name,
        )
        if approval.approved:
            return None
        return f"running the code was rejected{f' by {approval.by}' if approval.by else ''}"


@dataclass
class Team:
    """One thread's agents and rules."""

    name: str
    manager: GroupChatManager
    human: ConversableAgent
    runner: ConversableAgent | None = None
    personas: dict[str, Persona] = field(default_factory=dict)
    approvers: frozenset[str] = frozenset()
    starters: frozenset[str] = frozenset()
    budget: ThreadBudget = field(default_factory=ThreadBudget)
    executor: AsyncCodeExecutor | None = None
    mentions: MentionPolicy = "thread"  # whom agent text may ping
    notes: tuple[str, ...] = ()  # said in the thread when a run starts
    refusal: str | None = None  # why no run may start here (no sandbox for its code)

    def agents(self) -> list[ConversableAgent]:
        return [self.manager, *self.manager.team_members()]

    @property
    def sees_images(self) -> bool:
        """Whether a model of the team sees images (one not marked ``vision: false``)."""
        return any(
            entry.vision is not False
            for agent in self.agents()
            if agent.client is not None
            for entry in agent.client.config.entries
        )

    def persona(self, name: str | None) -> Persona:
        return self.personas.get(name or "", Persona(name or "threadcrew"))

    def may_approve(self, user_id: str, roles: Iterable[str] = ()) -> bool:
        """Whether the person, or one of their roles (Discord), is an approver; anyone is when none are named."""
        return not self.approvers or user_id in self.approvers or not self.approvers.isdisjoint(roles)

    def may_start(self, user_id: str, roles: Iterable[str] = ()) -> bool:
        """Whether the person (or one of their roles) may start a run; all may when no one is named."""
        return not self.starters or user_id in self.starters or not self.starters.isdisjoint(roles)

    async def close(self) -> None:
        if self.executor is not None:
            await self.executor.stop()


TeamFactory = Callable[[Path], Team]
"""Builds a fresh team; its argument is the conversation's own directory, where its code runs."""


@dataclass(frozen=True, slots=True)
class FileCheck:
    """A team file checked again: ``changed`` since it was loaded, and ``problem`` (None: valid)."""

    path: Path
    changed: bool
    problem: str | None = None


class TeamCatalog:
    """The teams a bot knows: from files, or registered from Python."""

    def __init__(self) -> None:
        self._factories: dict[str, TeamFactory] = {}
        self._triggers: dict[str, TriggerSpec] = {}
        self._descriptions: dict[str, str] = {}
        self.configs: dict[str, TeamConfig] = {}  # the teams that came from files or configs
        self.files: dict[str, Path] = {}  # the teams that came from files: where each file is
        self.default: str | None = None

    def register(
        self,
        name: str,
        factory: TeamFactory,
        *,
        default: bool = False,
        triggers: TriggerSpec | None = None,
        description: str = "",
    ) -> None:
        """Make a team available. ``triggers``: a mention starts it, and so do its keywords in a message."""
        self._factories[name] = factory
        self._triggers[name] = triggers or TriggerSpec()
        self._descriptions[name] = description
        if default or self.default is None:
            self.default = name

    def described(self) -> list[tuple[str, str]]:
        """Each team's name and description (empty for a team registered without one)."""
        return [(name, self._descriptions.get(name, "")) for name in self.names]

    def triggers(self, name: str) -> TriggerSpec:
        return self._triggers.get(name) or TriggerSpec()

    def team_for(self, thread: Any) -> str:
        """The team that runs in ``thread`` (the default team, until channels choose their own).

        Raises:
            TeamConfigError: no team is configured.
        """
        if self.default is None:
            raise TeamConfigError("no team is configured: pass --team FILE or register one")
        return self.default

    def add_file(self, path: str | Path, *, default: bool = False) -> TeamConfig:
        """Load and check a team file, and register it (building it once, to fail early).

        Raises:
            TeamConfigError: naming the file, the key and the fix.
        """
        config = load_team_config(path)
        try:
            self.add_config(config, default=default)
        except TeamConfigError as exc:
            raise TeamConfigError(f"{path}: {exc}") from exc
        self.files[config.name] = Path(path)
        return config

    async def file_check(self, name: str) -> FileCheck | None:
        """Team ``name``'s file as it is on disk now, checked again (None: the team has no file).

        The bot runs the team as it was loaded until it restarts; this says whether the file was
        changed since, and what is wrong with it if anything is (as ``threadcrew teams validate``).
        """
        path = self.files.get(name)
        if path is None:
            return None
        try:
            config = load_team_config(path)
            if config == self.configs.get(name):
                return FileCheck(path, changed=False)
            await build_team(config, None).close()
        except TeamConfigError as exc:
            return FileCheck(path, changed=True, problem=str(exc))
        except OSError as exc:
            return FileCheck(path, changed=True, problem=f"{path}: cannot be read ({exc.strerror or exc})")
        return FileCheck(path, changed=True)

    def add_config(self, config: TeamConfig, *, default: bool = False) -> None:
        """Check a team config by building it once, and register it.

        Raises:
            TeamConfigError: the team cannot be built.
        """
        build_team(config, None)
        self.configs[config.name] = config
        self.register(
            config.name,
            lambda work_dir: build_team(config, work_dir),
            default=default,
            triggers=config.triggers,
            description=config.description,
        )

    def timeouts(self, name: str) -> TimeoutsSpec:
        """The timeouts of team ``name``'s waits (none for a team registered from Python)."""
        config = self.configs.get(name)
        return config.timeouts if config is not None else TimeoutsSpec()

    def file_schedules(self) -> dict[str, list[NewSchedule]]:
        """Each team file's schedules, by team."""
        return {name: [s.to_new(name, i) for i, s in enumerate(c.schedules)] for name, c in self.configs.items()}

    @property
    def names(self) -> list[str]:
        return sorted(self._factories)

    def check(self, name: str | None) -> str:
        """The team called ``name`` (None: the default).

        Raises:
            TeamConfigError: there is none (the message lists the known ones).
        """
        chosen = name or self.default
        if chosen is None or chosen not in self._factories:
            raise TeamConfigError(f"no team named {chosen!r}; known teams: {', '.join(self.names) or 'none'}")
        return chosen

    def build(self, name: str | None, work_dir: Path) -> Team:
        """A fresh team whose code runs in ``work_dir``.

        Raises:
            TeamConfigError: no such team (the message lists the known ones).
        """
        return self._factories[self.check(name)](work_dir)


def build_team(config: TeamConfig, work_dir: Path | None) -> Team:
    """Fresh agents for ``config``; code runs in ``work_dir`` (None: only check that it builds).

    Raises:
        TeamConfigError: a tool cannot be imported, or the agents refuse their configuration.
    """
    try:
        return _build(config, work_dir)
    except TeamConfigError:
        raise
    except ValueError as exc:  # the agent layer's ConfigurationError is a ValueError
        raise TeamConfigError(f"team {config.name!r}: {exc}") from exc


def _build(config: TeamConfig, work_dir: Path | None) -> Team:
    llm_configs = {name: _llm_config(name, spec) for name, spec in config.models.items()}
    human = UserProxyAgent(
        config.human.name,
        human_input_mode=config.human.human_input_mode,
        code_execution_config=False,
        human_input_source=DeferredInput(),
        max_consecutive_auto_reply=10**6,
        description=config.human.description,
    )
    members: list[ConversableAgent] = [human]
    personas = {human.name: _persona(human.name, config.human.persona)}
    runner, executor = _runner(config, work_dir) if config.needs_runner else (None, None)
    if runner is not None:
        members.append(runner)
        personas[runner.name] = _persona(runner.name, config.code_execution.runner_persona)
    for index, spec in enumerate(config.agents):
        model = spec.model or config.default_model
        kind = AssistantAgent if spec.kind == "assistant" else ConversableAgent
        kwargs: dict[str, Any] = {
            "llm_config": llm_configs[model],
            "human_input_mode": "NEVER",
            "max_consecutive_auto_reply": 10**6,
        }
        if spec.system_message is not None:
            kwargs["system_message"] = spec.system_message
        if spec.description is not None:
            kwargs["description"] = spec.description
        agent = kind(spec.name, **kwargs)
        _scripted(agent, config.models[model])
        for tool_index, path in enumerate(spec.tools):
            func = _import(path, f"agents[{index}] ({spec.name}).tools[{tool_index}]", config.home)
            agent.register_for_llm()(func)
            assert runner is not None
            runner.register_for_execution()(func)
        members.append(agent)
        personas[spec.name] = _persona(spec.name, spec.persona)
    by_name = {m.name: m for m in members}
    gc = config.group_chat
    transitions = (
        {by_name[a]: [by_name[b] for b in targets] for a, targets in gc.transitions.items()} if gc.transitions else None
    )
    chat = _TeamChat(
        members,
        max_round=gc.max_round,
        speaker_selection_method=gc.speaker_selection,
        allow_repeat_speaker=gc.allow_repeat_speaker if transitions is None else None,
        allowed_or_disallowed_speaker_transitions=transitions,
        speaker_transitions_type="allowed" if transitions else None,
        send_introductions=gc.send_introductions,
    )
    selection_model = gc.model or config.default_model
    manager = GroupChatManager(
        chat,
        llm_config=llm_configs[selection_model],
        is_termination_msg=lambda m: "TERMINATE" in content_str(m.get("content")),  # AutoGen dicts
        human_input_source=DeferredInput(),  # manual selection asks the thread (buttons)
        silent=True,
    )
    _scripted(manager, config.models[selection_model])
    budget = config.budget
    return Team(
        name=config.name,
        manager=manager,
        human=human,
        runner=runner,
        personas=personas,
        approvers=frozenset(config.approvers),
        starters=frozenset(config.starters),
        budget=ThreadBudget(budget.max_tokens, budget.max_cost_usd, budget.max_rounds),
        executor=executor,
        mentions=config.mentions,
        **_sandbox_notes(executor),
    )


NO_SANDBOX = (
    "Warning: this team runs code without a sandbox (sandbox: none in its team file). "
    "The code can read and change whatever the bot can: its keys, its database, every conversation."
)
NO_SANDBOX_HERE = (
    "This team runs code, but this machine has no sandbox for it, so nothing was started. "
    "To get one: install bubblewrap (apt-get install bubblewrap), or set sandbox: docker in the team file "
    "and give the bot a Docker engine. To run code without a sandbox, the team file must say sandbox: none."
)


def _sandbox_notes(executor: AsyncCodeExecutor | None) -> dict[str, Any]:
    """What the thread is told about the sandbox when a run starts, and whether it may start."""
    if not isinstance(executor, LocalCommandLineCodeExecutor):
        return {}
    if executor.sandbox == "none":
        return {"notes": (NO_SANDBOX,)}
    return {"refusal": NO_SANDBOX_HERE} if executor.refusal is not None else {}


def _runner(config: TeamConfig, work_dir: Path | None) -> tuple[UserProxyAgent, AsyncCodeExecutor | None]:
    run = config.code_execution
    executor: AsyncCodeExecutor | None = None
    code_execution: dict[str, Any] | bool = False
    if run.executor != "none" and work_dir is not None:
        if run.in_docker:
            executor = DockerCommandLineCodeExecutor(
                image=run.image, timeout=run.timeout, work_dir=work_dir, runtime=run.runtime
            )
        else:
            # "bubblewrap" and "auto" both fail closed: without the sandbox, the run stops with a note.
            mode = "none" if run.sandbox == "none" else "auto"
            executor = LocalCommandLineCodeExecutor(timeout=run.timeout, work_dir=work_dir, sandbox=mode)
        code_execution = {"executor": executor}
        if run.approval == "required":
            code_execution["approval"] = ThreadApproval(run.runner)
    runner = UserProxyAgent(
        run.runner,
        human_input_mode="NEVER",
        code_execution_config=code_execution,  # type: ignore[arg-type]
        max_consecutive_auto_reply=10**6,
        default_auto_reply="(nothing to run)",
    )
    return runner, executor


def _llm_config(name: str, spec: ModelSpec) -> dict[str, Any]:
    if spec.scripted:
        entry = {
            "model": f"threadcrew-{spec.scripted}",
            "model_client_cls": "FunctionModelClient",
            "vision": spec.vision,
        }
        return {"config_list": [entry]}
    top_level = {"timeout", "max_retries", "stream", "cache_seed"}
    entry = {k: v for k, v in spec.model_dump(exclude={"scripted", *top_level}).items() if v is not None}
    config: dict[str, Any] = {"config_list": [entry]}
    config.update({k: v for k, v in spec.model_dump(include=top_level).items() if v is not None})
    return config


def _scripted(agent: ConversableAgent, spec: ModelSpec) -> None:
    if spec.scripted == "demo":
        from .demo_model import demo_model

        agent.register_model_client(FunctionModelClient, fn=demo_model)


def _persona(name: str, spec: Any) -> Persona:
    return Persona(name, spec.display_name, spec.icon_emoji, spec.icon_url)


def _import(path: str, where: str, home: Path | None) -> Callable[..., Any]:
    """``package.module:function``, found on the import path or next to the team file (``home``)."""
    module_name, _, attribute = path.partition(":")
    if not attribute:
        raise TeamConfigError(f"{where}: {path!r} is not an import path; write 'package.module:function'")
    if home is not None and str(home) not in sys.path:
        sys.path.append(str(home))
    try:
        module = importlib.import_module(module_name)
        func = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise TeamConfigError(f"{where}: cannot import {path!r} ({exc}); check the module and function names") from exc
    if not callable(func):
        raise TeamConfigError(f"{where}: {path!r} is not a function")
    return func  # type: ignore[no-any-return]
