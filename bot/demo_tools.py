"""The demo team's tool."""

from __future__ import annotations

from typing import Annotated


def squares(n: Annotated[int, "how many square numbers, from 1"]) -> list[int]:
    """The first n square numbers."""
    return [i * i for i in range(1, n + 1)]
