"""The audit log's signing key: Ed25519, kept outside the database.

The private key comes from `HUB_AUDIT_KEY_FILE` (a file holding the base64 of the 32-byte raw
key, or a PKCS#8 PEM) or `HUB_AUDIT_KEY` (the base64 itself). Whoever can write the hub store
but does not hold this key cannot sign a checkpoint for a rewritten trail. Public keys travel
as the base64 of their 32 raw bytes (RFC 8032 encoding). The private key is never logged or
shown: errors name the setting, never its value.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

_RAW = serialization.Encoding.Raw


class AuditKeyError(Exception):
    """The configured key cannot be used (the message never contains key material)."""


class Signer:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode()

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private.sign(message)).decode()

    def __repr__(self) -> str:  # never the private key, in logs or tracebacks
        return f"Signer(public_key={self.public_key!r})"


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `public_key`'s (base64 raw) signature of `message`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def new_private_key() -> str:
    """A fresh private key as base64 of its 32 raw bytes."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode()


def ephemeral() -> Signer:
    """A signer with a new key that nobody keeps (benchmarks): its checkpoints can be checked
    only against its public key, which ends with it."""
    return Signer(Ed25519PrivateKey.generate())


def signer_from_text(text: str, origin: str) -> Signer:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise AuditKeyError(f"{origin} is not an Ed25519 private key")
            return Signer(key)
        return Signer(Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True)))
    except (ValueError, binascii.Error, TypeError):
        raise AuditKeyError(
            f"{origin} must hold an Ed25519 private key: base64 of its 32 raw bytes, or PKCS#8 PEM"
        ) from None


def from_env(env: Mapping[str, str] | None = None) -> Signer | None:
    """The configured signer, or None when no key is configured (state changes are then
    refused). A key that is set but unusable is an error at start, not a silent None."""
    env = os.environ if env is None else env
    path = env.get("HUB_AUDIT_KEY_FILE")
    if path:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise AuditKeyError(f"HUB_AUDIT_KEY_FILE cannot be read ({e.strerror})") from None
        return signer_from_text(text, "HUB_AUDIT_KEY_FILE")
    if env.get("HUB_AUDIT_KEY"):
        return signer_from_text(env["HUB_AUDIT_KEY"], "HUB_AUDIT_KEY")
    return None


def create_key_file(path: Path) -> None:
    """Write a new private key readable by its owner only (the demo's key under .hub/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(new_private_key() + "\n")


def trusted_keys(signer: Signer | None, env: Mapping[str, str] | None = None) -> frozenset[str]:
    """Public keys whose checkpoints count: the hub's own, and those in HUB_AUDIT_TRUSTED_KEYS
    (comma-separated: keys used before a rotation, or the hub's key for an auditor who runs
    verify-audit without the private key)."""
    env = os.environ if env is None else env
    listed: Iterable[str] = (k.strip() for k in env.get("HUB_AUDIT_TRUSTED_KEYS", "").split(","))
    keys = {k for k in listed if k}
    if signer is not None:
        keys.add(signer.public_key)
    return frozenset(keys)
