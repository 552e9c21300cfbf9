"""Keyed-hash ranking: the only source of chance in every draw.

No draw calls a random number generator. The caller makes a secret seed
(``secrets.token_bytes(32)``, which is I/O and so stays out of this package), records
``seed_commitment(seed)`` before the draw and reveals the seed after it. Every rank is an
HMAC-SHA256 under that seed, so anyone holding the seed replays a draw bit for bit, and a
source database can rank its own rows the same way (PostgreSQL pgcrypto:
``hmac(uscc, seed, 'sha256')`` equals ``rank_key(seed, uscc)``), which is what lets an
entity draw be pushed down to each source and merged (``entity_draw.merge_top_k``).

Inspector draws use a two-part rank so that one visit costs one HMAC per seat instead of one
per inspector in the pool (a pool can hold hundreds of inspectors and a task tens of
thousands of visits): each inspector has a fixed keyed *position* on a circle of 2**256
points, each seat of a visit a keyed *offset*, and an inspector's rank for that seat is the
distance from the offset to its position going round the circle. Every rank is still a pure
function of the seed, and an auditor recomputes any of them with two HMACs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256
from hmac import compare_digest
from typing import Any

MIN_SEED_BYTES = 16  # a shorter seed could be guessed by trying them all
RING = 1 << 256  # positions and offsets are 256-bit integers; ranks are taken modulo this

_BLOCK = 64  # SHA-256 block size, which sizes the HMAC key pads (RFC 2104)
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


def check_seed(seed: bytes) -> None:
    """Refuse a seed that is not bytes or too short to be unpredictable."""
    if not isinstance(seed, bytes | bytearray):
        raise TypeError("the seed must be bytes (e.g. secrets.token_bytes(32))")
    if len(seed) < MIN_SEED_BYTES:
        raise ValueError(f"the seed must be at least {MIN_SEED_BYTES} bytes long")


class KeyedHash:
    """HMAC-SHA256 under one key, with the key schedule done once.

    ``hmac.digest`` re-derives the key pads on every call and costs about twice as much;
    a draw over a million entities hashes a million times, so the pads are absorbed once
    here and each message only copies the two prepared states.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        check_seed(key)
        key = bytes(key)
        if len(key) > _BLOCK:
            key = sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = sha256(key.translate(_IPAD))
        self._outer = sha256(key.translate(_OPAD))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def text(self, message: str) -> bytes:
        return self.digest(message.encode())

    def copiers(self) -> tuple[Callable[[], Any], Callable[[], Any]]:
        """The prepared inner and outer state factories, for loops that inline `digest`."""
        return self._inner.copy, self._outer.copy


def rank_key(seed: bytes, uscc: str) -> bytes:
    """The rank of an entity in a draw: HMAC-SHA256(seed, uscc); lower is drawn first."""
    return KeyedHash(seed).text(uscc)


def seed_commitment(seed: bytes) -> str:
    """SHA-256 of the seed in hex: published before the draw, checked against the seed after."""
    check_seed(seed)
    return sha256(seed).hexdigest()


SEED_DOMAIN = b"jsh-seed-v1"  # sets a joint seed apart from any other use of the same shares
SHARE_BYTES = 32


def joint_seed(hub_share: bytes, observer_shares: Sequence[bytes]) -> bytes:
    """The seed a draw uses (docs/draw-spec.md §1).

    Without observers, the hub's share itself — as for every draw made before observers
    existed. With them, SHA-256 of ``SEED_DOMAIN``, the hub's share and each observer's
    32-byte share in the task's order of observers: nobody who lacks any one share, the hub's
    operator included, can know the seed, and each share was fixed by its commitment before
    anyone revealed theirs.
    """
    check_seed(hub_share)
    if not observer_shares:
        return bytes(hub_share)
    for share in observer_shares:
        if len(share) != SHARE_BYTES:
            raise ValueError(f"an observer's share is {SHARE_BYTES} bytes")
    return sha256(SEED_DOMAIN + bytes(hub_share) + b"".join(observer_shares)).digest()


def matches_commitment(seed: bytes, commitment: str) -> bool:
    """Whether a revealed seed is the one committed to before the draw."""
    return compare_digest(seed_commitment(seed), commitment.lower())


def inspector_position(hasher: KeyedHash, department: str, inspector_id: str) -> int:
    """An inspector's fixed place on the ring for one task (the seed is in `hasher`)."""
    return int.from_bytes(hasher.text(f"inspector|{department}|{inspector_id}"))


def seat_offset(hasher: KeyedHash, uscc: str, department: str, seat: int) -> int:
    """Where the search starts for one seat of a visit: the `seat`-th inspector of
    `department` on the team of `uscc`. A fresh offset per seat keeps two inspectors of the
    same department from always being neighbours on the ring, i.e. fixed partners."""
    return int.from_bytes(hasher.text(f"seat|{uscc}|{department}|{seat}"))


def seat_rank(position: int, offset: int) -> int:
    """Distance from the seat's offset forward to the inspector's position; lower ranks first."""
    return (position - offset) % RING


def rank_hex(rank: int | bytes) -> str:
    """The printed form of a rank, fixed width so that text order equals numeric order."""
    if isinstance(rank, bytes):
        return rank.hex()
    return f"{rank:064x}"
