"""A local fake of Discord's REST API and gateway, for the real discord.py client.

One guild (``100``) with text channels ``200`` and ``201``, the bot (``900``, also the
application), people ``alice`` (301), ``bob`` (302, role ``400``) and ``carol`` (303). It keeps
the messages of every channel and thread, threads, webhooks, edits and interactions (with the
responses the bot gave them), and can be told to rate-limit a route (``rate_limit``), to
refuse the Manage Webhooks permission (``manage_webhooks = False``), or to close the gateway
with 4014 as Discord does when the Message Content intent is not enabled (``refuse_intents``).
Tests make people talk with :meth:`say`, press buttons with :meth:`click` and type the slash
command with :meth:`slash`. Runs on the test's event loop::

    async with FakeDiscord() as fake:
        platform = DiscordPlatform(fake.config())

Every answer is JSON with ``Content-Type: application/json`` exactly, which discord.py requires.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from adapters.discord import DiscordConfig
from tests.fakes.web import LocalFake

__all__ = ["BOT", "BOT_ROLE", "FORUM", "GUILD", "PEOPLE", "TOKEN", "FakeDiscord", "Interaction", "Message"]

GUILD, CHANNEL, OTHER_CHANNEL, BOT, APPROVER_ROLE, BOT_ROLE = "100", "200", "201", "900", "400", "401"
FORUM = "250"  # a forum channel: each post in it is a thread
PEOPLE = {"alice": "301", "bob": "302", "carol": "303"}
ROLES = {"302": ["400"], BOT: [BOT_ROLE]}
# The bot's role, as its invite link grants it: view, send, threads, webhooks, history.
BOT_PERMISSIONS = str((1 << 10) | (1 << 11) | (1 << 35) | (1 << 38) | (1 << 29) | (1 << 16))
TOKEN = "OTAw.fake.not-a-real-token"  # "900" in base64: the token's first part is the bot's id
EPHEMERAL = 64
DISCORD_EPOCH = 1_420_070_400_000
TIMESTAMP = "2026-11-30T12:00:00.000000+00:00"


class _Ids:
    BOT = BOT  # a dotted name: match patterns compare it (a bare name would capture)
    GUILD = GUILD


@dataclass
class Message:
    """A message in a channel or thread of the fake guild."""

    id: str
    channel_id: str
    content: str
    author_id: str
    username: str
    webhook_id: str | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # filename, content_type, data
    allowed_mentions: dict[str, Any] | None = None
    ephemeral_for: str | None = None
    avatar_url: str | None = None
    edits: int = 0
    mentions: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)  # what people attached

    @property
    def text(self) -> str:
        """The content without threadcrew's hidden key."""
        return self.content.split("\u2063")[0]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.components for c in row.get("components", ()) if "custom_id" in c]


@dataclass
class Interaction:
    id: str
    token: str
    type: int
    user_id: str
    channel_id: str
    data: dict[str, Any]
    responses: list[dict[str, Any]] = field(default_factory=list)  # what the bot answered, in order


class FakeDiscord(LocalFake):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.threads: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.interactions: list[Interaction] = []
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild (None: global) -> commands
        self.requests: list[tuple[str, str]] = []  # (method, path) of every REST call
        self.typing: list[str] = []
        self.identified: list[dict[str, Any]] = []
        self.manage_webhooks = True
        self.refuse_intents = False
        self.cdn: dict[str, tuple[str, bytes]] = {}  # attachment name -> (content type, data)
        self.overwrites: dict[str, list[dict[str, Any]]] = {}  # channel -> its permission overwrites
        self.hidden: set[str] = set()  # channels the bot may not view (GET answers 403 Missing Access)
        self._limited: dict[str, int] = defaultdict(int)
        self._ids = itertools.count()
        self._seq = itertools.count(1)

    def _snowflake(self) -> str:
        """A new id; Discord's ids carry their time (an interaction expires 15 minutes after its id's)."""
        return str(((int(time.time() * 1000) - DISCORD_EPOCH) << 22) + next(self._ids) % 4096)

    # -- running ---------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    def config(self, **overrides: Any) -> DiscordConfig:
        """threadcrew's Discord settings against this fake."""
        return DiscordConfig(**{"token": TOKEN, "api_url": self.api_url, "typing_every": 3600.0, **overrides})

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{path:.*}", self._api)

    # -- steering and looking ------------------------------------------------------------------------------

    def rate_limit(self, method: str, path_start: str, times: int = 1) -> None:
        """Answer ``method`` on paths starting with ``path_start`` with 429 (retry_after 0.01 s), ``times`` times."""
        self._limited[f"{method} {path_start}"] += times

    def in_channel(self, channel_id: str) -> list[Message]:
        """The public messages of a channel or thread, oldest first."""
        return [m for m in self.messages if m.channel_id == channel_id and not m.ephemeral_for]

    def private_to(self, user_id: str) -> list[Message]:
        return [m for m in self.messages if m.ephemeral_for == user_id]

    def calls(self, method: str, path_start: str) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] == method and r[1].startswith(path_start)]

    async def wait_for(self, condition: Callable[[FakeDiscord], bool], within: float = 30) -> None:
        await self._until(
            lambda: condition(self),
            within,
            lambda: "\n".join(f"  {m.channel_id} {m.username}: {m.text[:100]!r}" for m in self.messages[-10:]),
        )

    async def wait_connected(self, within: float = 30, *, times: int = 1) -> None:
        """Until a client has identified on the gateway (``times`` clients in all, one after another)."""
        await self.wait_for(lambda f: bool(f._sockets) and len(f.identified) >= times, within)

    # -- people ----------------------------------------------------------------------------------------------

    async def say(
        self, channel_id: str, who: str, content: str, *, attachments: list[tuple[str, str, bytes]] = ()
    ) -> Message:
        """``who`` (a name in PEOPLE) writes ``content`` (``<@900>`` mentions the bot) in a channel or thread;
        ``attachments`` are (file name, content type, data) served from the fake's CDN."""
        user = PEOPLE[who]
        files = []
        for name, content_type, data in attachments:
            self.cdn[name] = (content_type, data)
            files.append(
                {
                    "id": self._snowflake(),
                    "filename": name,
                    "content_type": content_type,
                    "size": len(data),
                    "url": f"http://127.0.0.1:{self.port}/cdn/{name}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/cdn/{name}",
                }
            )
        message = Message(
            self._snowflake(),
            channel_id,
            content,
            user,
            who,
            mentions=[BOT] if f"<@{BOT}>" in content else [],
            attachments=files,
        )
        self.messages.append(message)
        payload = self._message_json(message)
        payload["member"] = self._member(user, with_user=False)
        await self.dispatch("MESSAGE_CREATE", payload)
        return message

    async def click(self, message: Message, action: str, who: str) -> Interaction:
        """``who`` presses the button of ``message`` whose custom_id holds ``action``."""
        found = next(c for c in message.custom_ids() if c.split(":")[1] == action)
        data = {"custom_id": found, "component_type": 2}
        return await self._interact(3, message.channel_id, who, data, message=self._message_json(message))

    async def slash(self, channel_id: str, who: str, sub: str, *args: str) -> Interaction:
        """``who`` types ``/threadcrew SUB ARGS`` in a channel or thread."""
        options = [{"type": 3, "name": "thread", "value": a} for a in args]
        data = {"id": "700", "name": "threadcrew", "type": 1, "options": [{"type": 1, "name": sub, "options": options}]}
        return await self._interact(2, channel_id, who, data)

    async def slash_group(self, channel_id: str, who: str, group: str, sub: str, **values: str) -> Interaction:
        """``who`` types ``/threadcrew GROUP SUB`` with options (``channel`` a channel option, the others text)."""
        options = [{"type": 7 if name == "channel" else 3, "name": name, "value": v} for name, v in values.items()]
        chosen = {"type": 1, "name": sub, "options": options}
        data = {
            "id": "700",
            "name": "threadcrew",
            "type": 1,
            "options": [{"type": 2, "name": group, "options": [chosen]}],
        }
        return await self._interact(2, channel_id, who, data)

    async def _interact(
        self, kind: int, channel_id: str, who: str, data: dict[str, Any], message: dict[str, Any] | None = None
    ) -> Interaction:
        user = PEOPLE[who]
        interaction = Interaction(self._snowflake(), f"itoken-{self._snowflake()}", kind, user, channel_id, data)
        self.interactions.append(interaction)
        payload: dict[str, Any] = {
            "id": interaction.id,
            "application_id": BOT,
            "type": kind,
            "token": interaction.token,
            "version": 1,
            "data": data,
            "guild_id": GUILD,
            "channel_id": channel_id,
            "channel": self._channel_json(channel_id),
            "member": self._member(user, with_user=True),
            "app_permissions": "0",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def delete_webhook(self, webhook_id: str) -> None:
        """Someone deleted the webhook in the channel's settings."""
        del self.webhooks[webhook_id]

    def forum_post(self, title: str, who: str = "alice") -> str:
        """A post in the guild's forum channel (a thread of its own, which the bot has not cached); its id."""
        post = self._snowflake()
        self.threads[post] = self._thread_json(post, FORUM, title, PEOPLE[who])
        return post

    def archive(self, thread_id: str) -> None:
        self.threads[thread_id]["thread_metadata"]["archived"] = True

    # -- the gateway -------------------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH to every connected client."""
        frame = json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data})
        for socket in list(self._sockets):
            await socket.send_str(frame)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif message["op"] == 2:
                await self._identify(socket, message["d"])
        if socket in self._sockets:
            self._sockets.remove(socket)
        return socket

    async def _identify(self, socket: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        if self.refuse_intents:
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identified.append(identify)
        ready = {
            "v": 10,
            "user": self._user(BOT, "threadcrew", bot=True),
            "guilds": [{"id": GUILD, "unavailable": True}],
            "session_id": "session-1",
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "application": {"id": BOT, "flags": 0},
            "shard": identify.get("shard", [0, 1]),
        }
        await socket.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        await socket.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": self._guild()}))
        self._sockets.append(socket)
        await self._notify()

    def _guild(self) -> dict[str, Any]:
        everyone = {"id": GUILD, "name": "@everyone", "permissions": "0", "position": 0, "color": 0}
        approvers = {"id": APPROVER_ROLE, "name": "approvers", "permissions": "0", "position": 1, "color": 0}
        bot = {"id": BOT_ROLE, "name": "threadcrew", "permissions": BOT_PERMISSIONS, "position": 2, "color": 0}
        for role in (everyone, approvers, bot):
            role.update(hoist=False, managed=False, mentionable=False, flags=0)
        return {
            "id": GUILD,
            "name": "Fake Guild",
            "owner_id": PEOPLE["alice"],
            "unavailable": False,
            "large": False,
            "member_count": 4,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [everyone, approvers, bot],
            "channels": [self._channel_json(CHANNEL), self._channel_json(OTHER_CHANNEL)],
            "threads": [self._channel_json(t) for t in self.threads],
            "members": [self._member(BOT, with_user=True)],
            "voice_states": [],
            "presences": [],
            "joined_at": TIMESTAMP,
        }

    def _user(self, user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {"id": user_id, "username": name, "global_name": name, "discriminator": "0", "avatar": None, "bot": bot}

    def _member(self, user_id: str, *, with_user: bool) -> dict[str, Any]:
        name = next((n for n, i in PEOPLE.items() if i == user_id), "threadcrew")
        member: dict[str, Any] = {
            "roles": ROLES.get(user_id, []),
            "nick": None,
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": "0",
        }
        if with_user:
            member["user"] = self._user(user_id, name, bot=user_id == BOT)
        return member

    def _channel_json(self, channel_id: str) -> dict[str, Any]:
        if channel_id in self.threads:
            return self.threads[channel_id]
        return {
            "id": channel_id,
            "type": 0,
            "guild_id": GUILD,
            "name": f"channel-{channel_id}",
            "position": 0,
            "permission_overwrites": self.overwrites.get(channel_id, []),
        }

    def _message_json(self, m: Message) -> dict[str, Any]:
        author = self._user(m.webhook_id or m.author_id, m.username, bot=m.author_id == BOT or bool(m.webhook_id))
        payload: dict[str, Any] = {
            "id": m.id,
            "type": 0,
            "channel_id": m.channel_id,
            "guild_id": GUILD,
            "content": m.content,
            "author": author,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [self._user(u, "threadcrew", bot=True) for u in m.mentions],
            "mention_roles": [],
            "attachments": m.attachments
            + [
                {"id": m.id, "filename": f["filename"], "size": len(f["data"]), "url": "", "proxy_url": ""}
                for f in m.files
            ],
            "embeds": [],
            "pinned": False,
            "components": m.components,
            "flags": EPHEMERAL if m.ephemeral_for else 0,
        }
        if m.webhook_id:
            payload["webhook_id"] = m.webhook_id
            payload["application_id"] = BOT
        return payload

    # -- the REST API ----------------------------------------------------------------------------------------

    async def _cdn(self, request: web.Request) -> web.Response:
        content_type, data = self.cdn[request.match_info["name"]]
        return web.Response(body=data, content_type=content_type)

    async def _api(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.requests.append((request.method, path))
        for key, left in self._limited.items():
            method, start = key.split(" ", 1)
            if left and request.method == method and path.startswith(start):
                self._limited[key] -= 1
                body = {"message": "You are being rate limited.", "retry_after": 0.01, "global": False}
                return _json(body, status=429, headers={"Via": "1.1 google", "Retry-After": "1"})
        body, files = await self._body(request)
        parts = path.strip("/").split("/")
        try:
            answer = await self._route(request.method, parts, body, files, request.query)
        finally:
            await self._notify()
        if answer is None:
            return web.Response(status=204)
        if isinstance(answer, tuple):
            status, code, message = answer
            return _json({"code": code, "message": message}, status=status)
        return _json(answer)

    async def _body(self, request: web.Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form.get("payload_json") or "{}"))
            files = [
                {"filename": f.filename, "content_type": f.content_type, "data": f.file.read()}
                for name, f in form.items()
                if name.startswith("files[") and hasattr(f, "file")
            ]
            return body, files
        raw = await request.text()
        return (json.loads(raw) if raw else {}), []

    async def _route(  # one branch per route, as Discord's API reference lists them
        self, method: str, parts: list[str], body: dict[str, Any], files: list[dict[str, Any]], query: Any
    ) -> Any:
        match (method, parts):
            case ("GET", ["users", "@me"]):
                return self._user(BOT, "threadcrew", bot=True)
            case ("GET", ["oauth2", "applications", "@me"]):
                owner = self._user(PEOPLE["alice"], "alice")
                return {
                    "id": BOT,
                    "name": "threadcrew",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": owner,
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            case ("GET", ["gateway", "bot"]):
                limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
                return {"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1, "session_start_limit": limit}
            case ("GET", ["channels", channel_id]) if channel_id in self.hidden:
                return (403, 50001, "Missing Access")
            case ("GET", ["guilds", _Ids.GUILD]):
                return {
                    key: value for key, value in self._guild().items() if key in ("id", "name", "owner_id", "roles")
                }
            case ("GET", ["guilds", _Ids.GUILD, "members", user_id]) if user_id == BOT or user_id in PEOPLE.values():
                return self._member(user_id, with_user=True)
            case ("GET", ["channels", channel_id]):
                known = channel_id in self.threads or channel_id in (CHANNEL, OTHER_CHANNEL)
                return self._channel_json(channel_id) if known else (404, 10003, "Unknown Channel")
            case ("PATCH", ["channels", channel_id]):
                thread = self.threads.get(channel_id)
                if thread is None:
                    return (404, 10003, "Unknown Channel")
                if "archived" in body:
                    thread["thread_metadata"]["archived"] = body["archived"]
                return thread
            case ("POST", ["channels", channel_id, "typing"]):
                self.typing.append(channel_id)
                return None
            case ("GET", ["channels", channel_id, "messages"]):
                if channel_id not in self.threads and channel_id not in (CHANNEL, OTHER_CHANNEL):
                    return (404, 10003, "Unknown Channel")
                found = self.in_channel(channel_id)[::-1][: int(query.get("limit", 50))]
                return [self._message_json(m) for m in found]
            case ("POST", ["channels", channel_id, "messages"]):
                return self._post(channel_id, body, files, BOT, "threadcrew")
            case ("PATCH", ["channels", channel_id, "messages", message_id]):
                return self._edit(channel_id, message_id, body, by=BOT)
            case ("DELETE", ["channels", channel_id, "messages", message_id]):
                return self._delete(channel_id, message_id)
            case ("POST", ["channels", channel_id, "messages", message_id, "threads"]):
                return await self._start_thread(channel_id, message_id, body)
            case ("POST", ["channels", channel_id, "webhooks"]):
                if not self.manage_webhooks:
                    return (403, 50013, "Missing Permissions")
                hook = {"id": self._snowflake(), "token": f"whtoken-{self._snowflake()}", "type": 1}
                hook.update(channel_id=channel_id, guild_id=GUILD, name=body.get("name"), application_id=BOT)
                self.webhooks[hook["id"]] = hook
                return hook
            case ("POST", ["webhooks", _Ids.BOT, token]):
                return self._followup(token, body, files)
            case ("POST", ["webhooks", webhook_id, token]):
                return self._execute(webhook_id, token, body, files, query)
            case ("PATCH", ["webhooks", webhook_id, token, "messages", message_id]):
                if webhook_id not in self.webhooks:
                    return (404, 10015, "Unknown Webhook")
                channel = query.get("thread_id") or self.webhooks[webhook_id]["channel_id"]
                return self._edit(channel, message_id, body, by=webhook_id)
            case ("DELETE", ["webhooks", webhook_id, token, "messages", message_id]):
                channel = query.get("thread_id") or self.webhooks.get(webhook_id, {}).get("channel_id", "")
                return self._delete(channel, message_id)
            case ("POST", ["interactions", interaction_id, token, "callback"]):
                return self._callback(interaction_id, body)
            case ("PUT", ["applications", _Ids.BOT, "commands"]):
                self.commands[None] = body  # type: ignore[assignment]
                return [{**c, "id": self._snowflake(), "application_id": BOT, "version": "1"} for c in body]
            case ("PUT", ["applications", _Ids.BOT, "guilds", guild_id, "commands"]):
                self.commands[guild_id] = body  # type: ignore[assignment]
                return [{**c, "id": self._snowflake(), "application_id": BOT, "version": "1"} for c in body]
        return (404, 0, f"the fake does not know {method} /{'/'.join(parts)}")

    def _post(
        self, channel_id: str, body: dict[str, Any], files: list[dict[str, Any]], author: str, name: str, **extra: Any
    ) -> Any:
        if not (body.get("content") or files or body.get("components")):
            return (400, 50006, "Cannot send an empty message")
        if len(body.get("content") or "") > 2000:
            return (400, 50035, "Invalid Form Body: content: Must be 2000 or fewer in length.")
        message = Message(
            self._snowflake(),
            channel_id,
            body.get("content") or "",
            author,
            name,
            components=body.get("components") or [],
            files=files,
            allowed_mentions=body.get("allowed_mentions"),
            **extra,
        )
        self.messages.append(message)
        return self._message_json(message)

    def _execute(
        self, webhook_id: str, token: str, body: dict[str, Any], files: list[dict[str, Any]], query: Any
    ) -> Any:
        hook = self.webhooks.get(webhook_id)
        if hook is None or hook["token"] != token:
            return (404, 10015, "Unknown Webhook")
        channel = hook["channel_id"]
        thread_id = query.get("thread_id")
        if thread_id:
            thread = self.threads.get(thread_id)
            if thread is None or thread["parent_id"] != channel:
                return (404, 10003, "Unknown Channel")
            if thread["thread_metadata"]["archived"]:
                return (400, 50083, "Thread is archived")
            channel = thread_id
        name = body.get("username") or hook["name"]
        return self._post(
            channel, body, files, webhook_id, name, webhook_id=webhook_id, avatar_url=body.get("avatar_url")
        )

    def _followup(self, token: str, body: dict[str, Any], files: list[dict[str, Any]]) -> Any:
        interaction = next((i for i in self.interactions if i.token == token), None)
        if interaction is None:
            return (404, 10015, "Unknown Webhook")
        private = interaction.user_id if int(body.get("flags") or 0) & EPHEMERAL else None
        interaction.responses.append({"followup": True, "flags": body.get("flags", 0)})
        return self._post(interaction.channel_id, body, files, BOT, "threadcrew", ephemeral_for=private)

    def _edit(self, channel_id: str, message_id: str, body: dict[str, Any], *, by: str) -> Any:
        found = next((m for m in self.messages if m.id == message_id and m.channel_id == channel_id), None)
        if found is None:
            return (404, 10008, "Unknown Message")
        if self.threads.get(channel_id, {}).get("thread_metadata", {}).get("archived"):
            return (400, 50083, "Thread is archived")
        if (found.webhook_id or found.author_id) != by:
            return (403, 50005, "Cannot edit a message authored by another user")
        if "content" in body:
            if len(body["content"] or "") > 2000:
                return (400, 50035, "Invalid Form Body: content: Must be 2000 or fewer in length.")
            found.content = body["content"] or ""
        if "components" in body:
            found.components = body["components"] or []
        found.edits += 1
        return self._message_json(found)

    def _delete(self, channel_id: str, message_id: str) -> Any:
        before = len(self.messages)
        self.messages = [m for m in self.messages if not (m.id == message_id and m.channel_id == channel_id)]
        return None if len(self.messages) < before else (404, 10008, "Unknown Message")

    async def _start_thread(self, channel_id: str, message_id: str, body: dict[str, Any]) -> Any:
        if message_id in self.threads:
            return (400, 160004, "A thread has already been created for this message")
        if not any(m.id == message_id and m.channel_id == channel_id for m in self.messages):
            return (404, 10008, "Unknown Message")
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            return (400, 50035, "Invalid Form Body: name: Must be between 1 and 100 in length.")
        thread = self._thread_json(message_id, channel_id, name, BOT)  # a thread on a message has its id
        thread["thread_metadata"]["auto_archive_duration"] = body.get("auto_archive_duration", 1440)
        self.threads[message_id] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return thread

    def _thread_json(self, thread_id: str, parent_id: str, name: str, owner: str) -> dict[str, Any]:
        return {
            "id": thread_id,
            "type": 11,
            "guild_id": GUILD,
            "parent_id": parent_id,
            "name": name,
            "owner_id": owner,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> Any:
        interaction = next((i for i in self.interactions if i.id == interaction_id), None)
        if interaction is None:
            return (404, 10062, "Unknown interaction")
        if any(not r.get("followup") for r in interaction.responses):
            return (400, 40060, "Interaction has already been acknowledged.")
        flags = int((body.get("data") or {}).get("flags") or 0)
        interaction.responses.append({"type": body["type"], "flags": flags})
        return {
            "interaction": {
                "id": interaction_id,
                "type": interaction.type,
                "response_message_loading": body["type"] == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
        }


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py reads JSON only when the Content-Type is exactly application/json (no charset)
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )
