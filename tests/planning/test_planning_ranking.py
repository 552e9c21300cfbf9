"""Keyed-hash ranking: the draws' only source of chance, checkable by anyone with the seed."""

import hashlib
import hmac

import pytest

from planning.ranking import (
    RING,
    KeyedHash,
    joint_seed,
    matches_commitment,
    rank_hex,
    rank_key,
    seat_rank,
    seed_commitment,
)

SEED = bytes(range(32))


def test_rank_key_is_hmac_sha256_of_the_uscc():
    uscc = "91370202MA3C4LXX4R"
    assert rank_key(SEED, uscc) == hmac.new(SEED, uscc.encode(), hashlib.sha256).digest()


def test_keyed_hash_matches_hmac_for_long_keys():
    long_key = b"k" * 100  # longer than a SHA-256 block: hashed first, as RFC 2104 says
    assert KeyedHash(long_key).text("x") == hmac.new(long_key, b"x", hashlib.sha256).digest()


def test_seed_commitment_is_sha256_hex_of_the_seed():
    assert seed_commitment(SEED) == hashlib.sha256(SEED).hexdigest()
    assert matches_commitment(SEED, seed_commitment(SEED).upper())
    assert not matches_commitment(SEED[::-1], seed_commitment(SEED))


def test_short_or_non_bytes_seed_refused():
    with pytest.raises(ValueError):
        rank_key(b"too short", "91370202MA3C4LXX4R")
    with pytest.raises(TypeError):
        rank_key("not bytes" * 4, "91370202MA3C4LXX4R")  # type: ignore[arg-type]


def test_seat_rank_goes_round_the_ring():
    assert seat_rank(10, 10) == 0
    assert seat_rank(11, 10) == 1
    assert seat_rank(9, 10) == RING - 1  # just behind the offset: last in line
    assert rank_hex(1) == "0" * 63 + "1"
    assert rank_hex(b"\x00\xff") == "00ff"


def test_joint_seed_without_observers_is_the_hubs_share():
    hub = bytes(range(32))
    assert joint_seed(hub, []) == hub


def test_joint_seed_hashes_the_hubs_share_and_every_observers_in_order():
    hub, one, two = bytes(32), bytes([1]) * 32, bytes([2]) * 32
    assert joint_seed(hub, [one, two]) == hashlib.sha256(b"jsh-seed-v1" + hub + one + two).digest()
    assert joint_seed(hub, [two, one]) != joint_seed(hub, [one, two])
    with pytest.raises(ValueError):
        joint_seed(hub, [b"short"])
