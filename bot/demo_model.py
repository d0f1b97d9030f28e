"""The built-in scripted demo model: a fresh machine sees the whole flow without a model key.

It plays four parts, told apart by the system message: the speaker selector, the planner,
the coder and the reviewer of the demo team (``bot/demo_team.yaml``). The flow: the planner
plans; the coder calls the ``squares`` tool, then writes code that draws the numbers as a
chart (an SVG file, so no plotting library is needed); the runner runs it once someone
approves; the reviewer asks the people whether it is what they wanted, and ends after they
answer.
"""

from __future__ import annotations

import json
from typing import Any

from agents import Message, ModelRequest, ToolCall, content_str

__all__ = ["demo_model"]

_CHART = """```python
# filename: chart.py
numbers = {numbers}
bar, gap, scale = 30, 10, 2
width = len(numbers) * (bar + gap) + gap
height = max(numbers) * scale + 20
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{{width}}" height="{{height}}">']
for i, n in enumerate(numbers):
    x, h = gap + i * (bar + gap), n * scale
    parts.append(f'<rect x="{{x}}" y="{{height - h}}" width="{{bar}}" height="{{h}}" fill="steelblue"/>')
parts.append("</svg>")
with open("squares.svg", "w") as chart:
    chart.write("\\n".join(parts))
print(f"wrote squares.svg: {{len(numbers)}} bars, the tallest {{max(numbers)}}")
```"""


def demo_model(request: ModelRequest) -> str | Message:
    """Answer as the part the request's system message names."""
    messages = request.messages
    system = content_str(messages[0].get("content")) if messages and messages[0]["role"] == "system" else ""
    if system.startswith("You direct a conversation"):
        return _next_speaker(messages[1:-1])
    if system.startswith("You are the planner"):
        return (
            "Plan: the coder gets the first ten square numbers with the `squares` tool, then writes a small "
            "program that draws them as a bar chart (squares.svg). The runner runs it once someone approves, "
            "and the reviewer checks the result with you."
        )
    if system.startswith("You are the coder"):
        return _coder(messages)
    if system.startswith("You are the reviewer"):
        return _reviewer(messages)
    return "I am the demo model; I only know the demo team's parts."


def _next_speaker(transcript: list[dict[str, Any]]) -> str:
    last = transcript[-1] if transcript else {}
    speaker, text = last.get("name"), content_str(last.get("content"))
    spoken = {m.get("name") for m in transcript}
    if speaker == "user":
        return "reviewer" if "reviewer" in spoken else "planner"
    if speaker == "planner":
        return "coder"
    if speaker == "coder":
        return "runner"
    if speaker == "runner":
        return "reviewer" if "exitcode" in text else "coder"
    if speaker == "reviewer":
        return "user"
    return "planner"


def _coder(messages: list[dict[str, Any]]) -> str | Message:
    results = [m for m in messages if m["role"] == "tool"]
    if not results:
        return Message(role="assistant", tool_calls=(ToolCall("call_demo_squares", "squares", '{"n": 10}'),))
    if not any("exitcode" in content_str(m.get("content")) for m in messages):
        try:
            numbers = json.loads(content_str(results[-1].get("content")))
        except ValueError:
            numbers = [i * i for i in range(1, 11)]
        return "Here is the program that draws the chart:\n\n" + _CHART.format(numbers=numbers)
    return "The chart is in squares.svg."


_QUESTION = "user, is this what you wanted, or should we change something?"


def _reviewer(messages: list[dict[str, Any]]) -> str:
    if not any(_QUESTION in content_str(m.get("content")) for m in messages):
        return f"The chart shows the first ten squares, from 1 to 100, one bar each. {_QUESTION}"
    return "Thank you. We are done here. TERMINATE"
