"""Team files: agents, models, tools, code execution and group-chat rules, in YAML.

::

    name: dev
    models:
      default: {model: gpt-4o-mini, api_key: "${OPENAI_API_KEY}", base_url: "${OPENAI_BASE_URL:-}", vision: true}
    agents:
      - {name: planner, system_message: "You plan.", persona: {display_name: Planner, icon_emoji: ":memo:"}}
      - {name: coder, system_message: "You write Python.", tools: ["mytools:search"]}
    human: {name: user}                  # the people in the thread; asked when the team turns to them
    code_execution: {executor: local, timeout: 60, approval: required, runner: runner}
    group_chat: {speaker_selection: auto, max_round: 30}
    approvers: [U123]
    budget: {max_tokens: 200000, max_cost_usd: 2.0, max_rounds: 40}
    schedules:                           # scheduled runs of this team (see bot/scheduling/config.py)
      - {cron: "0 9 * * 1-5", timezone: Europe/Paris, platform: slack, channel: C123, message: "Summarise yesterday"}
    timeouts: {question: {after: 30m, then: continue, remind: true}, approval: {after: 60m, then: deny}}

``${VAR}`` takes an environment variable (``${VAR:-default}`` when it may be unset). A file
that is wrong stops start-up with a message naming the file, the key and the fix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from agents import check_agent_name

from .errors import TeamConfigError
from .scheduling.config import ScheduleSpec, TimeoutsSpec

__all__ = ["ModelSpec", "TeamConfig", "TriggerSpec", "load_team_config"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Strict):
    """One model endpoint (a ``config_list`` entry), or ``scripted: demo`` for the built-in demo model."""

    model: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    api_type: Literal["openai", "azure"] | None = None
    api_version: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    price: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]] | None = None
    timeout: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0)
    stream: bool | None = None  # show replies in the thread as they are written (where the platform can)
    # Whether the model sees images: people's images reach it as image content; without, a note says
    # an image was there. Off by default: a text-only server would refuse the whole request.
    vision: bool = False
    scripted: Literal["demo"] | None = None

    @model_validator(mode="after")
    def _model_or_scripted(self) -> ModelSpec:
        if not self.model and not self.scripted:
            raise ValueError("give 'model' (e.g. gpt-4o-mini), or 'scripted: demo' for the built-in demo model")
        return self


def _agent_name(name: str) -> str:
    check_agent_name(name)  # a ConfigurationError is a ValueError: the message names the rule
    return name


class PersonaSpec(_Strict):
    display_name: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None


AgentName = Annotated[str, AfterValidator(_agent_name)]


class AgentSpec(_Strict):
    name: AgentName
    kind: Literal["assistant", "conversable"] = "assistant"
    model: str | None = None
    system_message: str | None = None
    description: str | None = None
    tools: list[str] = Field(default_factory=list)
    persona: PersonaSpec = Field(default_factory=PersonaSpec)


class HumanSpec(_Strict):
    """The people in the thread, as one user proxy agent: asked whenever it is their turn."""

    name: AgentName = "user"
    human_input_mode: Literal["ALWAYS", "TERMINATE"] = "ALWAYS"
    description: str | None = None
    persona: PersonaSpec = Field(default_factory=PersonaSpec)


class CodeExecutionSpec(_Strict):
    """``runner`` is the agent that runs code blocks and tools (after approval, if required)."""

    executor: Literal["local", "docker", "none"] = "local"
    timeout: float = Field(default=60, gt=0)
    image: str | None = None
    runtime: str | None = None  # the Docker engine's runtime, e.g. runsc (gVisor)
    approval: Literal["required", "none"] = "required"
    # auto: bubblewrap, else no code runs; docker: the Docker executor; none: no sandbox, said in so many words
    sandbox: Literal["auto", "bubblewrap", "docker", "none"] = "auto"
    runner: AgentName = "runner"
    runner_persona: PersonaSpec = Field(default_factory=PersonaSpec)

    @model_validator(mode="after")
    def _sandbox_fits_executor(self) -> CodeExecutionSpec:
        if self.executor == "docker" and self.sandbox in ("bubblewrap", "none"):
            raise ValueError(
                f"sandbox: {self.sandbox} does not go with executor: docker; "
                "leave sandbox out (or say sandbox: docker), or use executor: local"
            )
        return self

    @property
    def in_docker(self) -> bool:
        """Whether code runs in Docker (``executor: docker`` or ``sandbox: docker``)."""
        return self.executor == "docker" or self.sandbox == "docker"


class GroupChatSpec(_Strict):
    speaker_selection: str = "auto"
    max_round: int = Field(default=30, ge=2)
    allow_repeat_speaker: bool | None = None
    transitions: dict[str, list[str]] | None = None
    model: str | None = None
    send_introductions: bool = False

    @field_validator("speaker_selection")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.lower() not in ("auto", "round_robin", "random", "manual"):
            raise ValueError("use one of auto, round_robin, random, manual")
        return value.lower()


class BudgetSpec(_Strict):
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)
    max_rounds: int | None = Field(default=None, ge=1)


class TriggerSpec(_Strict):
    """What starts a run in a thread: mentioning the bot, and messages with one of ``keywords``."""

    mention: bool = True
    keywords: list[str] = Field(default_factory=list)


class TeamConfig(_Strict):
    name: str
    description: str = ""
    models: dict[str, ModelSpec]
    agents: list[AgentSpec] = Field(min_length=1)
    human: HumanSpec = Field(default_factory=HumanSpec)
    code_execution: CodeExecutionSpec = Field(default_factory=CodeExecutionSpec)
    group_chat: GroupChatSpec = Field(default_factory=GroupChatSpec)
    triggers: TriggerSpec = Field(default_factory=TriggerSpec)
    approvers: list[str] = Field(default_factory=list)
    starters: list[str] = Field(default_factory=list)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    timeouts: TimeoutsSpec = Field(default_factory=TimeoutsSpec)
    mentions: Literal["none", "thread", "any"] = "thread"  # whom agent text may ping
    _home: Path | None = PrivateAttr(default=None)  # the team file's directory
    _env: dict[str, str] = PrivateAttr(default_factory=dict)  # ${VAR} name -> the value it gave

    @property
    def env_values(self) -> dict[str, str]:
        """The environment variables the file's ``${VAR}``s read, with their values (to redact secrets)."""
        return dict(self._env)

    @property
    def home(self) -> Path | None:
        """The team file's directory: tools may be modules next to it."""
        return self._home

    @model_validator(mode="after")
    def _references(self) -> TeamConfig:
        names = [a.name for a in self.agents] + [self.human.name]
        if self.needs_runner:
            names.append(self.code_execution.runner)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"agent names must be unique; repeated: {', '.join(repeated)}")
        known_models = sorted(self.models)
        for index, agent in enumerate(self.agents):
            if agent.model is not None and agent.model not in self.models:
                raise _Ref(f"agents.{index}.model", f"no model {agent.model!r} in models ({', '.join(known_models)})")
        if self.group_chat.model is not None and self.group_chat.model not in self.models:
            raise _Ref("group_chat.model", f"no model {self.group_chat.model!r} in models ({', '.join(known_models)})")
        for source, targets in (self.group_chat.transitions or {}).items():
            for name in [source, *targets]:
                if name not in names:
                    raise _Ref(
                        f"group_chat.transitions.{source}",
                        f"{name!r} is not an agent of the team ({', '.join(names)})",
                    )
        names_given = [s.to_new(self.name, i).name for i, s in enumerate(self.schedules)]
        for index, name in enumerate(names_given):
            if names_given.index(name) != index:
                raise _Ref(
                    f"schedules.{index}.name", f"another schedule is named {name!r}; give each a name of its own"
                )
        return self

    @property
    def default_model(self) -> str:
        return next(iter(self.models))

    @property
    def needs_runner(self) -> bool:
        """A runner agent exists when code runs or some agent has tools."""
        return self.code_execution.executor != "none" or any(a.tools for a in self.agents)


class _Ref(ValueError):
    """A reference to something that does not exist, at ``where``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


def load_team_config(path: str | Path) -> TeamConfig:
    """Read and check a team file.

    Raises:
        TeamConfigError: naming the file, the key, and the fix.
    """
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text())
    except FileNotFoundError as exc:
        raise TeamConfigError(f"{file}: no such team file; pass the path of a YAML team file") from exc
    except yaml.YAMLError as exc:
        raise TeamConfigError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TeamConfigError(f"{file}: a team file is a mapping with name, models and agents at the top")
    read: dict[str, str] = {}
    try:
        data = _interpolate(raw, (), read)
        config = TeamConfig.model_validate(data)
    except _MissingEnv as exc:
        raise TeamConfigError(
            f"{file}: {exc.where}: the environment variable {exc.name} is not set; set it, or write "
            f"${{{exc.name}:-default}} to give a default"
        ) from None
    except ValidationError as exc:
        raise TeamConfigError(_explain(file, exc, raw)) from None
    config._home = file.resolve().parent
    config._env = read
    return config


class _MissingEnv(Exception):
    def __init__(self, where: str, name: str) -> None:
        super().__init__(name)
        self.where = where
        self.name = name


def _interpolate(value: Any, path: tuple[Any, ...], read: dict[str, str]) -> Any:
    """``value`` with its ``${VAR}``s expanded; ``read`` collects each variable's value."""
    if isinstance(value, dict):
        return {k: _interpolate(v, (*path, k), read) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, i), read) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is not None:
            read[name] = found
            return found
        if default is not None:
            return default
        raise _MissingEnv(".".join(str(p) for p in path), name)

    result = _ENV.sub(replace, value)
    return None if result == "" and _ENV.search(value) else result


_RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _explain(file: Path, exc: ValidationError, raw: Any) -> str:
    problems = []
    for error in exc.errors():
        cause = error.get("ctx", {}).get("error")
        where = ".".join(str(p) for p in error["loc"])
        if isinstance(cause, _Ref):
            where = cause.where
        message = str(cause) if cause is not None else error["msg"]
        if error["type"] == "extra_forbidden":
            message = "is not a setting here (a typo?); remove it or check the spelling"
        elif error["type"] == "missing":
            message = "is required; add it"
        elif error["type"] in _RANGE_ERRORS:
            bound = error["msg"].removeprefix("Input should be ")
            message = f"{error['input']!r} is out of range; use a number {bound}"
        where = _name_items(where, raw)
        problems.append(f"{file}: {where or 'the file'}: {message}")
    return "\n".join(problems)


def _name_items(where: str, raw: Any) -> str:
    """``agents.1.model`` reads better as ``agents[1] (coder).model``."""
    parts = where.split(".")
    out: list[str] = []
    node = raw
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            item = node[int(part)]
            label = f" ({item['name']})" if isinstance(item, dict) and "name" in item else ""
            out[-1] = f"{out[-1]}[{part}]{label}"
            node = item
        else:
            out.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)
