"""The transcript's machinery: tokens and cost per message, and the prompt and answer of the model
that chose each speaker, stored with the message (durably) and shown escaped, with totals; tool
calls with their arguments and results."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.bot.crew import Crew, crew_bot, in_thread
from tests.bot.test_threads import coding_crew
from tests.bot.webconsole.console import between, console_bot, signed_in, waiting_run
from tests.fakes.openai_server import ScriptedOpenAI, text, tool_calls


async def test_each_message_keeps_what_its_model_calls_cost_and_how_its_speaker_was_chosen(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("selector", text("<script>alert(1)</script> planner", prompt_tokens=70, completion_tokens=3))
    model.say("planner", text("a plan", prompt_tokens=120, completion_tokens=30))
    async with waiting_run(server, tmp_path) as (bot, cid):
        messages = await bot.db.stores.messages.list_since(cid)  # read back from the database
        by_name = {m.name: m for m in messages if m.author_kind == "agent"}
        planner, coder = by_name["planner"], by_name["coder"]
        assert planner.model_usage == {
            "models": ["gpt-4o-mini"],
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "cost": planner.model_usage["cost"],
        }
        assert planner.model_usage["cost"] > 0  # gpt-4o-mini has a price
        choice = planner.speaker_selection
        assert choice["chosen"] == "planner"
        assert choice["how"] == "model"
        assert choice["answers"] == ["<script>alert(1)</script> planner"]
        assert choice["usage"]["prompt_tokens"] == 70
        assert choice["prompt"][0]["role"] == "system"
        assert choice["prompt"][0]["content"].startswith("You direct")
        assert "should speak next" in choice["prompt"][-1]["content"]
        assert choice["history"] == 1  # the people's message, counted, not repeated
        assert coder.speaker_selection["chosen"] == "coder"
        people = [m for m in messages if m.author_kind in ("human", "system")]
        assert all(m.model_usage is None and m.speaker_selection is None for m in people)

        async with signed_in(bot) as client:
            status, page, _ = await client.get(f"/c/{cid}")
        assert status == 200
        planner_html = _article(page, planner.seq)
        assert "120 + 30 tokens" in planner_html
        assert f"${planner.model_usage['cost']:.4f}" in planner_html
        assert "A model chose planner to speak (73 tokens" in planner_html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; planner" in planner_html  # the answer, as text
        assert "<script>alert" not in page
        assert "the conversation's 1 message above" in planner_html
        assert html_lib.escape(choice["prompt"][0]["content"][:40]) in planner_html
        # The totals: every agent message's calls, and every selection's.
        replies = sum(m.model_usage["prompt_tokens"] + m.model_usage["completion_tokens"] for m in by_name.values())
        choices = sum(
            m.speaker_selection["usage"]["prompt_tokens"] + m.speaker_selection["usage"]["completion_tokens"]
            for m in by_name.values()
            if m.speaker_selection is not None
        )
        totals = between(page, 'id="message-totals">', "</p>")
        assert f"own model calls: {replies:,} tokens" in totals
        assert f"choosing speakers: {choices:,} tokens" in totals


def _article(page: str, seq: int) -> str:
    found = re.search(rf'<article [^>]*id="m{seq}".*?</article>', page, re.S)
    assert found is not None, f"no message #{seq} on the page"
    return found.group(0)


async def test_a_models_choice_of_speaker_outlives_a_restart_while_the_speaker_waits_for_approval(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    """The selector picks the runner; the runner waits for an approval; the bot restarts; once
    approved, the runner's message still carries the choice (it was kept in the run's state)."""
    model, server = crew
    coding_crew(model)
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(lambda posts: bool(posts) and bool(posts[-1].message.buttons))
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.press("t1", "approve", "approve")
        await bot.platform.wait_for(in_thread("t1"))
        ran = next(m for m in await bot.transcript("t1") if m.name == "runner")
    assert ran.speaker_selection is not None
    assert ran.speaker_selection["chosen"] == "runner"
    assert ran.speaker_selection["answers"] == ["runner"]
    assert ran.model_usage is None  # running code calls no model


async def test_a_tool_call_shows_its_arguments_and_its_result_in_the_transcript(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", tool_calls(("word_count", {"sentence": "one <b>two</b> three"})))
    async with console_bot(server, tmp_path) as bot:
        await bot.platform.mention("t1", "count the words")
        await bot.platform.wait_for(in_thread("t1"))
        messages = await bot.transcript("t1")
        call = next(m for m in messages if m.tool_calls)
        result = next(m for m in messages if m.tool_responses)
        async with signed_in(bot) as client:
            _, page, _ = await client.get(f"/c/{call.conversation_id}")
    calling = _article(page, call.seq)
    assert "kind-tool_call" in calling
    assert "calls <b>word_count</b>" in calling
    assert "&#34;sentence&#34;: &#34;one &lt;b&gt;two&lt;/b&gt; three&#34;" in calling  # pretty JSON, escaped
    answered = _article(page, result.seq)
    assert "kind-tool_result" in answered
    assert '<pre class="result">3</pre>' in answered


def test_the_web_server_and_its_console_listen_on_this_machine_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("THREADCREW_HTTP_HOST", "THREADCREW_SLACK_HTTP_HOST", "THREADCREW_PLATFORMS"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().web_host == "127.0.0.1"
    assert Settings(http_host="0.0.0.0").web_host == "0.0.0.0"


async def test_a_speaker_chosen_without_a_model_says_how(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    """Named in a person's message, then in turn (round robin): each message says how its author came to speak."""
    _, server = crew
    async with console_bot(server, tmp_path, group_chat={"speaker_selection": "round_robin"}) as bot:
        await bot.platform.mention("t1", "reviewer, check the squares")
        await bot.platform.wait_for(in_thread("t1"))
        await bot.platform.say("t1", "fine, go on")
        await bot.platform.wait_for(lambda posts: len([p for p in posts if p.author != "threadcrew"]) >= 2)
        await bot.idle()
        agents = [m for m in await bot.transcript("t1") if m.author_kind == "agent"]
        assert [(m.name, m.speaker_selection["how"]) for m in agents[:2]] == [
            ("reviewer", "named"),
            ("runner", "round_robin"),
        ]
        assert all(m.speaker_selection["prompt"] == [] for m in agents[:2])  # no model: no prompt
        async with signed_in(bot) as client:
            _, page, _ = await client.get(f"/c/{agents[0].conversation_id}")
        assert "Chosen to speak: a person&#39;s message named reviewer" in _article(page, agents[0].seq)
        assert "Chosen to speak: in turn: runner" in _article(page, agents[1].seq)
