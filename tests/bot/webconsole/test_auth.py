"""The console's sign-in throttle, on an injected clock."""

from __future__ import annotations

from bot.webconsole.auth import FailedSignIns, valid_name


def test_failed_sign_ins_block_an_address_for_the_window_only() -> None:
    now = [1000.0]
    failures = FailedSignIns(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert not failures.blocked("10.0.0.1")
        failures.failed("10.0.0.1")
    assert failures.blocked("10.0.0.1")
    assert not failures.blocked("10.0.0.2")  # another address is not held up
    now[0] += 59
    assert failures.blocked("10.0.0.1")
    now[0] += 1
    assert not failures.blocked("10.0.0.1")
    assert failures._failures == {}  # nothing kept for an address that stopped failing


def test_operator_names_are_short_plain_words() -> None:
    assert valid_name("ops")
    assert valid_name("Ada.Lovelace-2")
    assert not valid_name("")
    assert not valid_name("-x")
    assert not valid_name("a" * 41)
    assert not valid_name("<b>eve</b>")
