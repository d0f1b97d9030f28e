"""A local fake of Slack's Web API (and its Socket Mode WebSocket), for the real slack-sdk client.

It answers the methods threadcrew calls the way Slack documents them, keeps the messages
posted into each thread, records every call, and can be told to fail a method
(``fail(method, "missing_scope")``) or to rate-limit it (``rate_limit(method)``). Runs on the
test's event loop::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from adapters.slack import SlackConfig
from tests.fakes.web import LocalFake

__all__ = ["Call", "FakeSlack", "Posted"]

BOT_TOKEN = "xoxb-test-not-a-real-token"
APP_TOKEN = "xapp-test-not-a-real-token"
SIGNING_SECRET = "test-signing-secret-not-real"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class Posted:
    """A message in the fake workspace."""

    channel: str
    ts: str
    text: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    username: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None
    metadata: dict[str, Any] | None = None
    ephemeral_for: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    edits: int = 0
    streaming: bool = False
    chunks: list[str] = field(default_factory=list)  # what was streamed into it, in order


class FakeSlack(LocalFake):
    def __init__(self, *, team_id: str = "T1", bot_user_id: str = "UBOT", bot_id: str = "BBOT") -> None:
        super().__init__()
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.calls: list[Call] = []
        self.posted: list[Posted] = []
        self.users: dict[str, str] = {"UALICE": "alice", "UBOB": "bob", "UCAROL": "carol"}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.customize_scope = True  # chat:write.customize granted (personas allowed)
        self.assistant_threads = False  # assistant.threads.setStatus works only in assistant threads
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_acked_at: dict[str, float] = {}  # envelope id -> when its ack came (perf_counter)
        self.workspaces: dict[str, tuple[str, str, str]] = {}  # bot token -> (team, bot user, bot id)
        self.not_member: set[str] = set()  # channels the bot was not invited to (posts there are refused)
        self.unseen: set[str] = set()  # channels the bot cannot see at all (private ones it is not in, wrong ids)
        self.channel_names: dict[str, str] = {}  # channel id -> name (else the id in lower case)
        self._codes: dict[str, tuple[str, str, str, str]] = {}
        self._failures: dict[str, deque[str]] = defaultdict(deque)
        self._limited: dict[str, int] = defaultdict(int)
        self._held: dict[tuple[str, str | None], asyncio.Event] = {}  # (method, user) -> answered once set
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self.shared: dict[str, tuple[str, bytes]] = {}  # a file people shared: id -> (mime type, data)
        self.downloads: list[tuple[str, str | None]] = []  # (file id, the token it was asked with)

    # -- running -------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_get("/socket", self._socket)

    def http_config(self, **overrides: Any) -> SlackConfig:
        """threadcrew's Slack settings for HTTP mode against this fake (the bot's web server picks the port)."""
        settings: dict[str, Any] = {
            "mode": "http",
            "bot_token": BOT_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_url": self.api_url,
        }
        return SlackConfig(**{**settings, **overrides})

    def socket_config(self, **overrides: Any) -> SlackConfig:
        """threadcrew's Slack settings for Socket Mode against this fake."""
        settings: dict[str, Any] = {"mode": "socket", "bot_token": BOT_TOKEN, "app_token": APP_TOKEN}
        return SlackConfig(**{**settings, "api_url": self.api_url, **overrides})

    def http_env(self, data_dir: Path, team: Path, port: int) -> dict[str, str]:
        """The environment variables of a bot process serving HTTP mode against this fake on ``port``."""
        return {
            "THREADCREW_DATA_DIR": str(data_dir),
            "THREADCREW_TEAM": str(team),
            "THREADCREW_SLACK_MODE": "http",
            "THREADCREW_SLACK_BOT_TOKEN": BOT_TOKEN,
            "THREADCREW_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "THREADCREW_SLACK_API_URL": self.api_url,
            "THREADCREW_HTTP_HOST": "127.0.0.1",
            "THREADCREW_HTTP_PORT": str(port),
        }

    def socket_env(self, data_dir: Path, team: Path, port: int) -> dict[str, str]:
        """The environment variables of a bot process in Socket Mode against this fake (its health
        endpoints on ``port``)."""
        http = self.http_env(data_dir, team, port)
        del http["THREADCREW_SLACK_SIGNING_SECRET"]
        return {**http, "THREADCREW_SLACK_MODE": "socket", "THREADCREW_SLACK_APP_TOKEN": APP_TOKEN}

    # -- steering it ------------------------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer ``method`` with ``{"ok": false, "error": error}`` the next ``times`` times."""
        self._failures[method].extend([error] * times)

    def rate_limit(self, method: str, times: int = 1) -> None:
        """Answer ``method`` with HTTP 429 (Retry-After: 0) the next ``times`` times."""
        self._limited[method] += times

    def hold(self, method: str, *, user: str | None = None) -> asyncio.Event:
        """Keep ``method``'s answers (only those about ``user``, if given) back until the returned
        event is set (Slack's API slow to answer)."""
        gate = self._held[(method, user)] = asyncio.Event()
        return gate

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def in_thread(self, channel: str, thread_ts: str) -> list[Posted]:
        return [p for p in self.posted if p.channel == channel and p.thread_ts == thread_ts and not p.ephemeral_for]

    async def wait_for(self, condition: Callable[[FakeSlack], bool], within: float = 30) -> None:
        await self._until(
            lambda: condition(self),
            within,
            lambda: "\n".join(f"  {p.thread_ts} {p.username}: {p.text[:100]!r}" for p in self.posted[-10:]),
        )

    # -- Socket Mode ----------------------------------------------------------------------------------

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Send an envelope to every connected Socket Mode client."""
        for socket in self._sockets:
            await socket.send_str(json.dumps(envelope))

    async def wait_for_socket(self, within: float = 30) -> None:
        await self.wait_for(lambda s: bool(s._sockets), within)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                acked_at, ack = time.perf_counter(), json.loads(message.data)
                async with self._changed:
                    self.socket_acks.append(ack)
                    self.socket_acked_at[str(ack.get("envelope_id"))] = acked_at
                    self._changed.notify_all()
        self._sockets.remove(socket)
        return socket

    def share(self, name: str, mimetype: str, data: bytes) -> dict[str, Any]:
        """A file a person shares: its entry for a message event's ``files``, downloadable as Slack serves it."""
        file_id = f"F{next(self._files)}"
        self.shared[file_id] = (mimetype, data)
        url = f"http://127.0.0.1:{self.port}/files-pri/{self.team_id}-{file_id}/{name}"
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": url,
            "url_private_download": f"{url}?download=1",
        }

    async def _download(self, request: web.Request) -> web.Response:
        """Like files.slack.com: the file for a workspace's bot token; the sign-in page (200, HTML) without one."""
        file_id = request.match_info["team_file"].split("-", 1)[-1]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        self.downloads.append((file_id, token))
        if token != BOT_TOKEN and token not in self.workspaces:
            return web.Response(text="<html><body>Sign in to Slack</body></html>", content_type="text/html")
        if file_id not in self.shared:
            return web.Response(status=404)
        mimetype, data = self.shared[file_id]
        return web.Response(body=data, content_type=mimetype)

    # -- the Web API ------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or params.get("token")
        async with self._changed:
            self.calls.append(Call(method, params, token))
            self._changed.notify_all()
        for gate in (self._held.get((method, None)), self._held.get((method, params.get("user")))):
            if gate is not None:
                await gate.wait()
        if self._limited[method]:
            self._limited[method] -= 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"})
        if self._failures[method]:
            return web.json_response({"ok": False, "error": self._failures[method].popleft()})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body = handler(params, token) if method in ("auth.test", "oauth.v2.access") else handler(params)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(body)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(dict(parse_qsl(raw)))
        for name in ("blocks", "metadata", "files"):
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    def _next_ts(self) -> str:
        return f"1700000{next(self._ts):03d}.000100"

    def _auth_test(self, params: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        team_id, bot_user_id, bot_id = self.workspaces.get(token or "", (self.team_id, self.bot_user_id, self.bot_id))
        return {
            "ok": True,
            "url": "https://test.slack.invalid/",
            "team": f"Team {team_id}",
            "user": "threadcrew",
            "team_id": team_id,
            "user_id": bot_user_id,
            "bot_id": bot_id,
        }

    def install(self, code: str, team_id: str, token: str, bot_user_id: str = "UBOT2", bot_id: str = "BBOT2") -> None:
        """Make ``oauth.v2.access`` with ``code`` install the app into ``team_id`` with bot ``token``."""
        self._codes[code] = (team_id, token, bot_user_id, bot_id)
        self.workspaces[token] = (team_id, bot_user_id, bot_id)

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        found = self._codes.pop(params.get("code", ""), None)
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        if not (params.get("client_secret") or (token or "").startswith("Basic ")):
            return {"ok": False, "error": "bad_client_secret"}
        team_id, bot_token, bot_user_id, _ = found
        return {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UALICE"},
            "scope": "chat:write,commands",
            "token_type": "bot",
            "access_token": bot_token,
            "bot_user_id": bot_user_id,
            "team": {"id": team_id, "name": f"Team {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params["user"]
        name = self.users.get(user)
        if name is None:
            return {"ok": False, "error": "user_not_found"}
        profile = {"display_name": name, "real_name": name.title()}
        return {"ok": True, "user": {"id": user, "name": name, "real_name": name.title(), "profile": profile}}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params["channel"]
        if channel in self.unseen:
            return {"ok": False, "error": "channel_not_found"}
        name = self.channel_names.get(channel, channel.lower())
        member = channel not in self.not_member
        return {"ok": True, "channel": {"id": channel, "name": name, "is_channel": True, "is_member": member}}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel") in self.not_member | self.unseen:
            return {
                "ok": False,
                "error": "not_in_channel" if params["channel"] in self.not_member else "channel_not_found",
            }
        persona = any(params.get(k) for k in ("username", "icon_emoji", "icon_url"))
        if persona and not self.customize_scope:
            return {"ok": False, "error": "missing_scope", "needed": "chat:write.customize", "provided": "chat:write"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        posted = self._message(
            params,
            username=params.get("username"),
            icon_emoji=params.get("icon_emoji"),
            icon_url=params.get("icon_url"),
            metadata=params.get("metadata"),
        )
        return {"ok": True, "channel": posted.channel, "ts": posted.ts, "message": {"text": posted.text}}

    def _message(self, params: dict[str, Any], **extra: Any) -> Posted:
        posted = Posted(
            channel=params["channel"],
            ts=self._next_ts(),
            text=params.get("text", ""),
            thread_ts=params.get("thread_ts"),
            blocks=params.get("blocks") or [],
            **extra,
        )
        self.posted.append(posted)
        return posted

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        posted = self._message(params, ephemeral_for=params["user"])
        return {"ok": True, "message_ts": posted.ts}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        for posted in self.posted:
            if posted.channel == params["channel"] and posted.ts == params["ts"]:
                posted.text = params.get("text", posted.text)
                posted.blocks = params.get("blocks") or []
                posted.edits += 1
                return {"ok": True, "channel": posted.channel, "ts": posted.ts, "text": posted.text}
        return {"ok": False, "error": "message_not_found"}

    def _chat_startStream(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        if params["channel"][0] in "CG" and not (params.get("recipient_user_id") and params.get("recipient_team_id")):
            return {"ok": False, "error": "missing_recipient_user_id"}  # required when streaming in channels
        if params.get("username") and not self.customize_scope:
            return {"ok": False, "error": "missing_scope", "needed": "chat:write.customize"}
        text = params.get("markdown_text", "")
        posted = self._message(
            {**params, "text": text},
            username=params.get("username"),
            icon_emoji=params.get("icon_emoji"),
            icon_url=params.get("icon_url"),
            streaming=True,
            chunks=[text],
        )
        return {"ok": True, "channel": posted.channel, "ts": posted.ts}

    def _streaming(self, params: dict[str, Any]) -> Posted | None:
        return next((p for p in self.posted if p.ts == params.get("ts") and p.streaming), None)

    def _chat_appendStream(self, params: dict[str, Any]) -> dict[str, Any]:
        posted = self._streaming(params)
        if posted is None:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        posted.text += params.get("markdown_text", "")
        posted.chunks.append(params.get("markdown_text", ""))
        return {"ok": True, "channel": posted.channel, "ts": posted.ts}

    def _chat_stopStream(self, params: dict[str, Any]) -> dict[str, Any]:
        posted = self._streaming(params)
        if posted is None:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        posted.streaming = False
        posted.text += params.get("markdown_text", "")
        if params.get("blocks"):
            posted.blocks = params["blocks"]
        if params.get("metadata"):
            posted.metadata = params["metadata"]
        return {"ok": True, "channel": posted.channel, "ts": posted.ts}

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        before = len(self.posted)
        self.posted = [p for p in self.posted if not (p.channel == params["channel"] and p.ts == params["ts"])]
        return {"ok": True} if len(self.posted) < before else {"ok": False, "error": "message_not_found"}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        thread = [p for p in self.posted if p.channel == params["channel"] and p.thread_ts == params["ts"]]
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = []
        for p in thread:
            if p.ephemeral_for:
                continue  # others' ephemeral messages are not in the history
            message: dict[str, Any] = {"type": "message", "ts": p.ts, "thread_ts": p.thread_ts, "text": p.text}
            message["bot_id"] = self.bot_id
            if with_metadata and p.metadata:
                message["metadata"] = p.metadata
            messages.append(message)
        return {"ok": True, "messages": messages, "has_more": False}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._files)}"
        self.uploads[file_id] = {"filename": params["filename"], "length": int(params["length"]), "data": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404)
        self.uploads[file_id]["data"] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id]['data'])}")

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params["files"]
        for f in files:
            upload = self.uploads.get(f["id"])
            if upload is None or upload["data"] is None:
                return {"ok": False, "error": "file_not_found"}
        shared = [{**self.uploads[f["id"]], "id": f["id"], "title": f.get("title")} for f in files]
        posted = Posted(
            channel=params["channel_id"],
            ts=self._next_ts(),
            text=params.get("initial_comment", ""),
            thread_ts=params.get("thread_ts"),
            files=shared,
        )
        self.posted.append(posted)
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _assistant_threads_setStatus(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.assistant_threads:
            return {"ok": False, "error": "invalid_thread"}  # not an assistant thread
        return {"ok": True}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}
