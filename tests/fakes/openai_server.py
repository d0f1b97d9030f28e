"""A scripted OpenAI-compatible server on 127.0.0.1, for the real ``openai`` client to talk to.

It answers ``POST /v1/chat/completions`` (and Azure's deployment path) from a script of
replies: text, parallel tool calls, errors (429 with Retry-After, 500, ...), slow answers;
``stream: true`` requests get SSE chunks. Like OpenAI, it refuses (400) a conversation
whose tool calls and tool results do not pair up, and names the model API does not accept.
Every request is recorded with its body, headers and arrival time. The server runs on its own
event loop in a thread, so sync and async tests can both use it.

Run it as a process (for benchmarks)::

    python -m tests.fakes.openai_server --reply "ok" --delay 0.2
    # prints "PORT <n>" when ready; every request gets the same reply
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Reply", "ScriptedOpenAI", "error", "slow", "text", "tool_calls"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    content: str | None = None
    calls: tuple[tuple[str, str], ...] = ()
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_message: str = ""
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    hold: threading.Event | None = None  # answered only once this is set (a test's gate)


def text(content: str, **kwargs: Any) -> Reply:
    """A plain assistant message."""
    return Reply(content=content, **kwargs)


def tool_calls(*calls: tuple[str, Any], content: str | None = None, **kwargs: Any) -> Reply:
    """An assistant message with tool calls: ``("name", {"arg": 1})`` or ``("name", "raw json")``."""
    encoded = tuple((name, args if isinstance(args, str) else json.dumps(args)) for name, args in calls)
    return Reply(content=content, calls=encoded, **kwargs)


def error(status: int, message: str = "scripted error", *, retry_after: float | None = None) -> Reply:
    """An HTTP error in OpenAI's error format."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return Reply(status=status, error_message=message, headers=headers)


def slow(seconds: float, reply: Reply) -> Reply:
    """``reply``, answered after ``seconds``."""
    return Reply(**{**reply.__dict__, "delay": seconds})


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


class ScriptedOpenAI:
    """The server. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, responder: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self.responder = responder
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- scripting -------------------------------------------------------------------------------

    def script(self, *replies: Reply | str) -> ScriptedOpenAI:
        """Queue replies, answered in order (a string is a text reply)."""
        self._script.extend(text(r) if isinstance(r, str) else r for r in replies)
        return self

    @property
    def pending(self) -> int:
        return len(self._script)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def config(self, model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
        """A ``config_list`` entry pointing at this server."""
        return {"model": model, "base_url": self.base_url, "api_key": "sk-test-not-a-real-key", **extra}

    def llm_config(self, model: str = "gpt-4o-mini", **top_level: Any) -> dict[str, Any]:
        """An ``llm_config`` with one entry pointing at this server; no client retries by default."""
        return {"config_list": [self.config(model)], "max_retries": 0, **top_level}

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    # -- serving --------------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAI:
        ready = threading.Event()

        def serve() -> None:
            # Its own reference: stop() forgets the loop once it has waited long enough, while a
            # slow cleanup (a held reply) may still be under way here; the loop is closed either way.
            loop = self._loop = asyncio.new_event_loop()
            loop.run_until_complete(self._start_app())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=serve, name="scripted-openai", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> ScriptedOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start_app(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(RecordedRequest(request.path, body, dict(request.headers), time.monotonic()))
        problem = invalid_messages(body.get("messages", []))
        if problem is not None:
            payload = {"error": {"message": problem, "type": "invalid_request_error", "code": None}}
            return web.json_response(payload, status=400)
        if self.responder is not None:
            reply = self.responder(body)
        elif self._script:
            reply = self._script.popleft()
        else:
            reply = error(500, "the scripted server has no reply left for this request")
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.hold is not None and not await asyncio.to_thread(reply.hold.wait, 60):
            return web.json_response({"error": {"message": "held too long", "type": "scripted"}}, status=500)
        if reply.status != 200:
            payload: dict[str, Any] = {
                "error": {"message": reply.error_message, "type": "scripted", "code": reply.status}
            }
            return web.json_response(payload, status=reply.status, headers=reply.headers)
        if body.get("stream"):
            return await self._stream(request, body, reply)
        return web.json_response(self._completion(body, reply))

    def _usage(self, body: dict[str, Any], reply: Reply) -> dict[str, int]:
        prompt = reply.prompt_tokens if reply.prompt_tokens is not None else len(json.dumps(body["messages"])) // 4
        completion = reply.completion_tokens
        if completion is None:
            completion = len(reply.content or "") // 4 + sum(len(a) for _, a in reply.calls) // 4 + 1
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _call_dicts(self, reply: Reply, n: int) -> list[dict[str, Any]]:
        return [
            {"id": f"call_{n}_{i}", "type": "function", "function": {"name": name, "arguments": args}}
            for i, (name, args) in enumerate(reply.calls)
        ]

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        n = next(self._ids)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.calls:
            message["tool_calls"] = self._call_dicts(reply, n)
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.calls else "stop"}],
            "usage": self._usage(body, reply),
        }

    async def _stream(self, request: web.Request, body: dict[str, Any], reply: Reply) -> web.StreamResponse:
        n = next(self._ids)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        model = reply.model or body["model"]

        async def send(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> None:
            chunk = {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage is not None:
                chunk["choices"] = []
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for piece in _pieces(reply.content or ""):
            await send({"content": piece})
        for i, call in enumerate(self._call_dicts(reply, n)):
            args = call["function"]["arguments"]
            await send(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                    ]
                }
            )
            for piece in _pieces(args):
                await send({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
        await send({}, finish="tool_calls" if reply.calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({}, usage=self._usage(body, reply))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


_NAME = re.compile(r"^[^\s<|\\/>]+$")


def invalid_messages(messages: list[dict[str, Any]]) -> str | None:
    """What OpenAI would refuse in a conversation, in its words, or None."""
    open_calls: list[str] = []
    for index, message in enumerate(messages):
        name = message.get("name")
        if name is not None and not _NAME.match(name):
            return f"{name!r} does not match '^[^\\s<|\\\\/>]+$' - 'messages.{index}.name'"
        if message.get("role") == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in open_calls:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceding message "
                    f"with 'tool_calls' (messages.{index}, tool_call_id {call_id!r})"
                )
            open_calls.remove(call_id)
            continue
        if open_calls:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {open_calls}"
            )
        open_calls = [call["id"] for call in message.get("tool_calls") or ()]
    if open_calls:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {open_calls}"
        )
    return None


def _pieces(value: str, size: int = 7) -> Iterable[str]:
    return (value[i : i + size] for i in range(0, len(value), size))


def main() -> None:
    """Serve one fixed reply to every request, as cheaply as aiohttp allows (for benchmarks).

    A real model endpoint spends none of the benchmark machine's CPU; this one shares it, so
    it answers from prepared bytes and does not parse or record requests.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default="ok")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--rotate", default="", help="comma-separated replies to give in turn instead of --reply")
    args = parser.parse_args()
    replies = args.rotate.split(",") if args.rotate else [args.reply]
    bodies = [
        json.dumps(
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": 0,
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": r}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
            }
        ).encode()
        for r in replies
    ]
    turn = itertools.cycle(bodies)

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        if args.delay:
            await asyncio.sleep(args.delay)
        return web.Response(body=next(turn), content_type="application/json")

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", args.port)
        await site.start()
        server = site._server
        assert server is not None
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
