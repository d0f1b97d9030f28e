"""The demo team (``demo_team.yaml``): a planner, a coder and a reviewer, with a runner and you.

With ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` set, its agents use that model
(``THREADCREW_MODEL``, default ``gpt-4o-mini``). Without, they use the built-in scripted demo
model (``demo_model.py``), announced as such, so that a fresh machine shows the whole flow:
speaker selection, a tool call, code that runs after approval, a chart file, and a question
for you.
"""

from __future__ import annotations

import os
from pathlib import Path

from .team_config import ModelSpec, TeamConfig, load_team_config

__all__ = ["DEFAULT_TASK", "DEMO_TEAM_FILE", "SCRIPTED_MODEL_NOTICE", "demo_team_config"]

DEMO_TEAM_FILE = Path(__file__).with_name("demo_team.yaml")
DEFAULT_TASK = "Chart the first ten square numbers for me."
SCRIPTED_MODEL_NOTICE = (
    "No OPENAI_API_KEY or OPENAI_BASE_URL is set: the team uses threadcrew's built-in scripted demo "
    "model, which follows a fixed script. Set one of them to talk to a real model."
)


def demo_team_config() -> tuple[TeamConfig, bool]:
    """The demo team, and whether the scripted model stands in for a real one."""
    config = load_team_config(DEMO_TEAM_FILE)
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    api_key = os.environ.get("OPENAI_API_KEY") or None
    if not (base_url or api_key):
        return config, True
    real = ModelSpec(
        model=os.environ.get("THREADCREW_MODEL", "gpt-4o-mini"),
        base_url=base_url,
        api_key=api_key or "not-needed",  # a local OpenAI-compatible server may not check keys
    )
    return config.model_copy(update={"models": {"default": real}}), False
