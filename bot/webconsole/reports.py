"""The console's other pages: usage (by team, model and day), the teams, the schedules."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web

from ..errors import ScheduleError
from ..scheduling import timing_of
from ..scheduling.manage import set_schedule
from ..scheduling.timing import check_timezone, next_fire
from .auth import PREFIX

if TYPE_CHECKING:
    from ..team_config import TeamConfig
    from .console import Console

__all__ = ["USAGE_PERIODS", "Reports"]

USAGE_PERIODS = {"last day": 1, "last week": 7, "last 30 days": 30}
SCHEDULE_ACTIONS = ("pause", "resume", "delete")


class Reports:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.stores = console.db.stores

    async def usage(self, request: web.Request) -> web.Response:
        """Tokens and cost by team, by model and by day (UTC), over a period or all time."""
        period = request.query.get("since", "")
        days = USAGE_PERIODS.get(period)
        since = self.console.now() - dt.timedelta(days=days) if days else None
        usage = self.stores.usage
        tables = {by: await usage.breakdown(by, since=since) for by in ("team", "model", "day")}
        return self.console.render("usage.html", request, tables=tables, periods=list(USAGE_PERIODS), chosen=period)

    async def teams(self, request: web.Request) -> web.Response:
        """The loaded teams: each one's models (keys never shown), agents, rules and budgets, and
        whether its file changed on disk since, with what is wrong with it now."""
        catalog = self.console.catalog
        teams = [
            {
                "name": name,
                "description": description,
                "default": name == catalog.default,
                "config": _shown(catalog.configs.get(name)),
                "file": await catalog.file_check(name),
            }
            for name, description in catalog.described()
        ]
        return self.console.render("teams.html", request, teams=teams)

    async def schedules(self, request: web.Request) -> web.Response:
        """The schedules: when each fires (and next), the team, where, the message; pause, resume, delete."""
        now = self.console.now()
        rows = []
        for schedule in await self.stores.schedules.list():
            timing = timing_of(schedule)
            fire = next_fire(timing.trigger(schedule.created_at), schedule.last_run_at, schedule.created_at, now)
            local = fire.astimezone(check_timezone(schedule.timezone)) if fire is not None else None
            upcoming = "paused" if not schedule.enabled else (f"{local:%Y-%m-%d %H:%M %Z}" if local else "no more runs")
            rows.append({"s": schedule, "when": timing.describe(), "next": upcoming})
        return self.console.render("schedules.html", request, rows=rows)

    async def schedule_act(self, request: web.Request) -> web.Response:
        """Pause, resume or delete a schedule (as ``threadcrew schedules`` and the chat command do)."""
        name = request.match_info["name"]
        action = str((await request.post()).get("action", ""))
        if action not in SCHEDULE_ACTIONS:
            raise web.HTTPBadRequest(text=f"unknown action {action!r}; one of: {', '.join(SCHEDULE_ACTIONS)}")
        try:
            await set_schedule(self.console.db, name, action)
        except ScheduleError as exc:
            raise web.HTTPNotFound(text=str(exc)) from None
        return web.Response(status=303, headers={"Location": f"{PREFIX}/schedules"})


def _shown(config: TeamConfig | None) -> str | None:
    """A team file as the console shows it (YAML): every setting, but only whether a model's key is set."""
    if config is None:
        return None  # registered from Python: no file to show
    shown: dict[str, Any] = config.model_dump(mode="json")
    for model in shown["models"].values():
        model["api_key"] = "(set)" if model.get("api_key") else "(not set)"
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True)
