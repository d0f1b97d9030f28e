"""The console platform: typed lines become thread events; posts print under personas."""

from __future__ import annotations

import io
from pathlib import Path

from adapters import Attachment, Button, ConsolePlatform, OutboundMessage, Persona, ThreadEvent


async def events_from(console: ConsolePlatform) -> list[ThreadEvent]:
    seen: list[ThreadEvent] = []

    async def collect(event: ThreadEvent) -> None:
        seen.append(event)

    await console.run(collect)
    return seen


async def test_typed_lines_become_mentions_commands_and_button_presses(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsolePlatform(
        tmp_path / "files", stdin=io.StringIO("hello team\n/as bob\n\n/pause\n2\n7\n"), stdout=out, opening="a task"
    )
    buttons = (Button("Approve", "approve", "approve"), Button("Reject", "reject", "reject"))
    posted = await console.post(console.thread, OutboundMessage(Persona("threadcrew"), "Run it?", buttons=buttons))
    events = await events_from(console)
    assert [(e.kind, e.author.id, e.text) for e in events[:2]] == [
        ("mention", "you", "a task"),
        ("mention", "you", "hello team"),
    ]
    assert (events[2].kind, events[2].command, events[2].author.id) == ("command", "pause", "bob")
    assert (events[3].kind, events[3].action_id, events[3].ref_message_id) == ("button", "reject", posted)
    assert (events[4].kind, events[4].text) == ("mention", "7")  # no button 7: it is just words
    assert len({e.event_key for e in events}) == len(events)
    assert "[1] Approve  [2] Reject" in out.getvalue()
    assert "(you are now bob)" in out.getvalue()


async def test_posts_print_under_the_persona_save_files_and_are_remembered(tmp_path: Path) -> None:
    out = io.StringIO()
    log = tmp_path / "posted.log"
    console = ConsolePlatform(tmp_path / "files", posted_log=log, stdin=io.StringIO(""), stdout=out)
    message = OutboundMessage(
        Persona("coder", "Coder"),
        "Done, @channel: see the chart",
        key="tc-7",
        attachments=(Attachment("chart.svg", "image/svg+xml", b"<svg/>"),),
    )
    message_id = await console.post(console.thread, message)
    printed = out.getvalue()
    assert "\nCoder:\n" in printed
    assert "@channel" not in printed
    assert f"[file: {tmp_path / 'files' / 'chart.svg'}]" in printed
    assert (tmp_path / "files" / "chart.svg").read_bytes() == b"<svg/>"
    assert await console.find_posted(console.thread, "tc-7") == message_id
    assert await console.find_posted(console.thread, "tc-8") is None
    # A restarted console (a new object on the same log) still knows what it printed.
    again = ConsolePlatform(tmp_path / "files", posted_log=log, stdin=io.StringIO(""), stdout=io.StringIO())
    assert await again.find_posted(again.thread, "tc-7") == message_id

    await console.update(
        console.thread, message_id, OutboundMessage(Persona("threadcrew"), "Run it?\n\nApproved by bob.")
    )
    assert out.getvalue().endswith("(threadcrew: Approved by bob.)\n")


async def test_a_restarted_console_asks_the_question_the_team_still_waits_on_and_its_numbers_work(
    tmp_path: Path,
) -> None:
    log = tmp_path / "posted.log"
    console = ConsolePlatform(tmp_path / "files", posted_log=log, stdin=io.StringIO(""), stdout=io.StringIO())
    buttons = (Button("Approve", "approve", "approve"), Button("Reject", "reject", "reject"))
    question = OutboundMessage(Persona("threadcrew"), "runner wants to run the code above.", buttons=buttons)
    asked = await console.post(console.thread, question)

    out = io.StringIO()  # the bot restarts: a new console on the same log
    again = ConsolePlatform(tmp_path / "files", posted_log=log, stdin=io.StringIO("1\n"), stdout=out)
    [pressed] = await events_from(again)
    assert "(still waiting) threadcrew:\nrunner wants to run the code above.\n[1] Approve  [2] Reject" in out.getvalue()
    assert (pressed.kind, pressed.action_id, pressed.ref_message_id) == ("button", "approve", asked)

    # Once the question shows what was decided, a restart has nothing to ask again.
    await again.update(
        again.thread, asked, OutboundMessage(Persona("threadcrew"), "runner wants...\n\nApproved by you.")
    )
    out = io.StringIO()
    [said] = await events_from(
        ConsolePlatform(tmp_path / "files", posted_log=log, stdin=io.StringIO("1\n"), stdout=out)
    )
    assert "still waiting" not in out.getvalue()
    assert (said.kind, said.text) == ("mention", "1")  # no button: it is just words
