from __future__ import annotations

import pytest

from adapters.render import defuse_mass_mentions, split_markdown


def test_short_text_is_one_piece() -> None:
    assert split_markdown("hello", 100) == ["hello"]


def test_pieces_respect_the_limit_and_keep_every_line() -> None:
    text = "\n".join(f"line {i} " + "x" * 30 for i in range(100))
    pieces = split_markdown(text, 300)
    assert all(len(p) <= 300 for p in pieces)
    assert "\n".join(pieces).split("\n") == text.split("\n")


def test_a_code_block_cut_in_two_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"print({i})" for i in range(60))
    text = f"Here is the code:\n```python\n{code}\n```\nDone."
    pieces = split_markdown(text, 200)
    assert len(pieces) > 2
    for piece in pieces:
        assert len(piece) <= 200
        assert piece.count("```") % 2 == 0, piece  # every piece has matching fences
    assert pieces[1].startswith("```python\n")
    joined = "\n".join(p.replace("```python\n", "").replace("\n```", "") for p in pieces)
    for i in range(60):
        assert f"print({i})" in joined


def test_a_single_long_line_is_cut_hard() -> None:
    pieces = split_markdown("a" * 1000, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert "".join(pieces) == "a" * 1000


def test_limit_too_small() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        split_markdown("x" * 100, 10)


@pytest.mark.parametrize("mention", ["@everyone", "@here", "@channel", "@Everyone"])
def test_mass_mentions_are_defused(mention: str) -> None:
    out = defuse_mass_mentions(f"hey {mention} look")
    assert mention not in out
    assert out.replace("\u200b", "") == f"hey {mention} look"
