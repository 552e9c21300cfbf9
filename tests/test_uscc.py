"""USCC rules (domain/uscc.md): check characters, length, alphabet, case, legacy allow-list."""

from __future__ import annotations

import pytest

from domain.uscc import InvalidUSCC, make, parse

VECTORS = ["914403001922038216", "91330100716105852F", "91310000132260250X"]


@pytest.mark.parametrize("code", VECTORS)
def test_published_codes_are_valid(code: str) -> None:
    assert parse(code).code == code


def test_wrong_check_character_fails() -> None:
    with pytest.raises(InvalidUSCC, match="check character"):
        parse("914403001922038217")


def test_wrong_organization_check_character_fails() -> None:
    # Change the 17th character (org-code check) and recompute nothing: must fail.
    with pytest.raises(InvalidUSCC, match="organization-code"):
        parse("914403001922038206")


@pytest.mark.parametrize("code", ["91440300192203821", "9144030019220382160", ""])
def test_wrong_length_fails(code: str) -> None:
    with pytest.raises(InvalidUSCC, match="18 characters"):
        parse(code)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_forbidden_letters_fail(letter: str) -> None:
    with pytest.raises(InvalidUSCC, match="not allowed"):
        parse("9144030019220382" + letter + "6")


def test_lower_case_is_normalized() -> None:
    assert parse("91330100716105852f").code == "91330100716105852F"


def test_pilot_code_only_on_allow_list() -> None:
    pilot = "91350100M000100Y40"  # a pre-standard pilot code: check fails
    with pytest.raises(InvalidUSCC):
        parse(pilot)
    accepted = parse(pilot, legacy_allow={pilot})
    assert accepted.legacy and accepted.code == pilot


def test_make_builds_valid_codes() -> None:
    code = make("9", "1", "370202", "MA3C4D5E")
    assert parse(code).code == code and code[2:8] == "370202"
