"""Check a joint task's audit trail from the hub's public API, with the Python standard library
alone: the latest signed checkpoint's Ed25519 signature, and that the trail leads from a
checkpoint you kept earlier (or from its start) to it — nothing it covered changed or vanished.

    python3 verify/verify_audit.py --hub http://127.0.0.1:8000 TASK_ID \\
        [--kept kept.json] [--public-key BASE64] [--save kept.json] [--log]

--kept      a checkpoint saved earlier (by --save, or auditCheckpoint's answer as JSON)
--public-key  the hub's public key as it publishes it; else the kept checkpoint's, else the
            one the hub presents now (trust on first use)
--save      write the latest checkpoint, checked, for next time
--log       check the whole log of every task too, from its start

Exit status 0 when everything holds, 1 when something does not (each problem is printed),
2 when the hub cannot be asked. The rows the entries anchored (results, teams, …) are not
public: `hub verify-audit` checks those where the hub store is reachable.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Post = Callable[[str, dict[str, Any]], dict[str, Any]]  # (query, variables) -> GraphQL answer
CHECKPOINT_FIELDS = "taskId count headHash signature publicKey signedAt"
PAGE = 1000

# -- Ed25519 verification (RFC 8032, section 5.1), in plain integers ----------------------------
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)


def _add(a: Point, b: Point) -> Point:
    x = (a[1] - a[0]) * (b[1] - b[0]) % _P
    y = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = y - x, d - c, d + c, y + x
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _mul(s: int, a: Point) -> Point:
    q: Point = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, a)
        a = _add(a, a)
        s >>= 1
    return q


def _x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _point(raw: bytes) -> Point | None:
    """Decode a compressed point: y in the low 255 bits, the sign of x in the top one."""
    n = int.from_bytes(raw, "little")
    y = n & ((1 << 255) - 1)
    x = _x(y, n >> 255)
    return None if x is None else (x, y, 1, x * y % _P)


_BASE = _point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))  # y = 4/5, x even
if _BASE is None:
    raise RuntimeError("the Ed25519 base point does not decode")
_G: Point = _BASE


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _point(public), _point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    left, right = _mul(s, _G), _add(r, _mul(h, a))
    return (left[0] * right[2] - right[0] * left[2]) % _P == 0 and (
        left[1] * right[2] - right[1] * left[2]
    ) % _P == 0


# -- checkpoints and proofs ----------------------------------------------------------------------
def message(cp: dict[str, Any]) -> bytes:
    scope = cp["taskId"] or "log"
    return (
        f"jsh-audit-checkpoint v1\nscope {scope}\ncount {cp['count']}\nhead {cp['headHash']}\n"
        f"signed-at {cp['signedAt']}"
    ).encode()


def signed(cp: dict[str, Any], public_key: str) -> bool:
    try:
        key, sig = base64.b64decode(cp["publicKey"]), base64.b64decode(cp["signature"])
    except ValueError:
        return False
    return cp["publicKey"] == public_key and ed25519_verify(key, message(cp), sig)


def fold(head: str, leaves: list[str]) -> str:
    for leaf in leaves:
        head = hashlib.sha256((head + leaf).encode()).hexdigest()
    return head


def check(
    post: Post,
    task_id: str | None,
    kept: dict[str, Any] | None,
    public_key: str | None,
) -> tuple[list[str], dict[str, Any] | None]:
    """Problems found (empty: all holds) and the latest checkpoint. `task_id` None: the whole
    log."""
    what = f"task {task_id}'s trail" if task_id else "the whole log"
    if task_id:
        answer = post(
            f"query($t: ID!) {{ auditCheckpoint(taskId: $t) {{ {CHECKPOINT_FIELDS} }} }}",
            {"t": task_id},
        )
        latest = (answer.get("data") or {}).get("auditCheckpoint")
    else:
        answer = post(f"{{ auditLogCheckpoint {{ {CHECKPOINT_FIELDS} }} }}", {})
        latest = (answer.get("data") or {}).get("auditLogCheckpoint")
    if answer.get("errors"):
        return [f"the hub refused: {answer['errors'][0].get('message')}"], None
    if latest is None:
        return [f"the hub has no signed checkpoint of {what}"], None
    key = public_key or (kept or {}).get("publicKey") or latest["publicKey"]
    if not signed(latest, key):
        return [f"the latest checkpoint of {what} is not signed by {key}"], latest
    if kept is not None and not signed(kept, key):
        return [f"the kept checkpoint of {what} is not signed by {key}"], latest
    if kept is not None and latest["count"] < kept["count"]:
        return [
            f"entry #{latest['count'] + 1} of {what} is missing: the kept checkpoint signed at "
            f"{kept['signedAt']} covers {kept['count']} entries, the hub's latest "
            f"{latest['count']}"
        ], latest
    if kept is not None:
        count, head = kept["count"], kept["headHash"]
    elif task_id:
        count, head = 0, hashlib.sha256(f"task:{task_id}".encode()).hexdigest()
    else:
        count, head = 0, hashlib.sha256(b"jsh-audit-log").hexdigest()
    while count < latest["count"]:
        if task_id:
            answer = post(
                "query($t: ID!, $f: Int!, $n: Int!) { auditProof(taskId: $t, fromCount: $f, "
                f"first: $n) {{ toCount leaves checkpoint {{ {CHECKPOINT_FIELDS} }} }} }}",
                {"t": task_id, "f": count, "n": PAGE},
            )
            p = (answer.get("data") or {}).get("auditProof")
        else:
            answer = post(
                "query($f: Int!, $n: Int!) { auditLogProof(fromCount: $f, first: $n) "
                f"{{ toCount leaves checkpoint {{ {CHECKPOINT_FIELDS} }} }} }}",
                {"f": count, "n": PAGE},
            )
            p = (answer.get("data") or {}).get("auditLogProof")
        if answer.get("errors") or p is None:
            reason = answer["errors"][0].get("message") if answer.get("errors") else "none"
            return [f"no proof of {what} from entry #{count}: {reason}"], latest
        to, cp = p["toCount"], p["checkpoint"]
        if to <= count:
            return [f"entry #{to + 1} of {what} is missing: the hub has {to}"], latest
        if cp is None or cp["count"] != to or not signed(cp, key):
            return [f"entry #{to} of {what} has no checkpoint signed by {key}"], latest
        if len(p["leaves"]) != to - count or fold(head, p["leaves"]) != cp["headHash"]:
            return [
                f"entries #{count + 1} to #{to} of {what} do not lead to the checkpoint signed "
                f"at {cp['signedAt']}: an entry up to #{to} was changed or removed"
            ], latest
        count, head = to, cp["headHash"]
    if count != latest["count"] or head != latest["headHash"]:
        return [f"{what} does not lead to its latest checkpoint"], latest
    return [], latest


def http_post(hub: str) -> Post:
    def post(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            hub.rstrip("/") + "/graphql", body, {"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")

    return post


def load_kept(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        data = json.load(f)
    if isinstance(data.get("data"), dict):
        inner = data["data"]
        data = inner.get("auditCheckpoint") or inner.get("auditLogCheckpoint") or {}
    missing = {"count", "headHash", "signature", "publicKey", "signedAt"} - set(data)
    if missing:
        raise ValueError(f"{path} is not a checkpoint: it lacks {sorted(missing)}")
    data.setdefault("taskId", None)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", help="the task id")
    parser.add_argument("--hub", required=True, help="the hub's base URL")
    parser.add_argument("--kept", help="a checkpoint of the task kept earlier")
    parser.add_argument("--public-key", help="the hub's Ed25519 public key, base64")
    parser.add_argument("--save", help="write the latest checked checkpoint here")
    parser.add_argument("--log", action="store_true", help="check the whole log too")
    args = parser.parse_args(argv)
    try:
        kept = load_kept(args.kept) if args.kept else None
    except (OSError, ValueError) as e:
        print(f"cannot read the kept checkpoint: {e}", file=sys.stderr)
        return 2
    if kept is not None and kept["taskId"] not in (None, args.task):
        print(f"{args.kept} is a checkpoint of task {kept['taskId']}", file=sys.stderr)
        return 2
    post = http_post(args.hub)
    try:
        problems, latest = check(post, args.task, kept, args.public_key)
        if args.log and not problems:
            key = args.public_key or (latest or {}).get("publicKey")
            log_problems, _ = check(post, None, None, key)
            problems += log_problems
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(f"cannot ask the hub at {args.hub}: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL: {p}")
    if problems or latest is None:
        return 1
    print(
        f"OK: task {args.task}'s trail holds {latest['count']} entries, signed at "
        f"{latest['signedAt']} by {latest['publicKey']}"
        + (f", and everything the kept checkpoint covered ({kept['count']})" if kept else "")
        + (", and the whole log checks out" if args.log else "")
    )
    if args.save:
        with open(args.save, "w") as f:
            json.dump(latest, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
