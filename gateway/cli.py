"""The `hub` command: serve the graph, run the demo, seed the demo departments."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import uvicorn

from adapters import settings as settings_mod
from adapters.registry import Registry
from embedded._process import die_with_parent, kill_orphan
from gateway import logs
from gateway.auth import AuthConfig, issue_token
from gateway.connections import ConnectionLimits, GuardedHttpTools
from gateway.forwarded import TrustedProxies
from store import access, audit_verify, checkpoints, deliveries, signing
from store import webhooks as webhook_store
from store.events import CREDIT
from store.hub import HubStore
from tasks import webhooks
from tasks.credit_feedback import CreditFeedback, deliver_now
from tasks.delivery import DeliveryWorker, Policy
from tasks.draw_record import draw_record
from tasks.verification import verify_draw

EXAMPLE = """{{
  entity(uscc: "{uscc}") {{
    name kind district {{ name }} credit {{ grade score lists {{ kind }} }}
    permits {{ name status department {{ code }} }}
    penalties {{ kind fine decidedOn department {{ code }} }}
  }}
}}"""


def serve(host: str, port: int, workers: int) -> None:
    """Run the app under uvicorn; several workers share one port (the gateway is stateless)."""
    logs.configure(os.environ.get("HUB_LOG_LEVEL", "INFO"))
    # Bad connection settings stop the start here, not in every worker.
    ConnectionLimits.from_env()
    TrustedProxies.from_env()
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        # The client's address is decided by the app from HUB_TRUSTED_PROXIES alone
        # (gateway/forwarded.py); uvicorn would believe X-Forwarded-For from any local peer.
        proxy_headers=False,
        # Deadlines for slow heads and bodies, a cap per client address (gateway/connections).
        http=GuardedHttpTools,
        timeout_keep_alive=int(os.environ.get("HUB_KEEP_ALIVE_TIMEOUT", "5")),
        # Connections and requests in flight per worker; past it uvicorn answers 503.
        limit_concurrency=int(os.environ.get("HUB_LIMIT_CONCURRENCY", "1000")),
        ws_max_size=256 * 1024,  # a subscription is a small document: refuse big frames early
        # Notices are a few hundred bytes; compressing them cost ~45 KiB of zlib state per open
        # WebSocket (bench/subscriptions.py) for little saved.
        ws_per_message_deflate=False,
    )


async def _demo_seeded(settings: settings_mod.Settings) -> str | None:
    """A sample USCC if the demo departments are already seeded, else None (also when the
    MariaDB ones are missing, e.g. MYSQL_URL now names another server)."""
    from demo import mariadb
    from demo.codes import ON_MARIADB

    wanted = [f"{settings.db_prefix}{code}" for code in ON_MARIADB]
    if len(await mariadb.existing(settings.mysql_url, wanted)) < len(wanted):
        return None
    dsn = settings_mod.database_dsn(settings.database_url, f"{settings.db_prefix}market")
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        sample = await conn.fetchval("SELECT sample_uscc FROM seed_info LIMIT 1")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()
    return sample


async def _prepare_demo(entities: int, seed: int, reseed: bool) -> str:
    from demo.seed import seed as run_seed

    settings = settings_mod.from_env()
    sample = None if reseed else await _demo_seeded(settings)
    if sample is None:
        print(f"seeding demo departments with {entities} entities…", file=sys.stderr)
        report = await run_seed(
            settings.database_url,
            settings.db_prefix,
            entities,
            seed,
            mysql_url=settings.mysql_url,
        )
        sample = report.sample_uscc
        await _mark_seeded(settings, sample, entities, seed)
    return sample


async def _mark_seeded(
    settings: settings_mod.Settings, sample: str, entities: int, seed: int
) -> None:
    """Remember the seeding so that the next demo start reuses the data."""
    dsn = settings_mod.database_dsn(settings.database_url, f"{settings.db_prefix}market")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS seed_info (sample_uscc text, entities int, seed int,"
            " seeded_at timestamptz DEFAULT now())"
        )
        await conn.execute(
            "INSERT INTO seed_info (sample_uscc, entities, seed) VALUES ($1, $2, $3)",
            sample,
            entities,
            seed,
        )
    finally:
        await conn.close()


DEMO_AUDIT_KEY = settings_mod.ROOT / ".hub" / "audit-key"


def _demo_audit_key(create: bool) -> None:
    """Unless a key is configured, the demo signs audit checkpoints with a key of its own
    under .hub/ (kept across runs, so checkpoints kept earlier still verify); the shell
    commands of the same checkout use it too."""
    if os.environ.get("HUB_AUDIT_KEY_FILE") or os.environ.get("HUB_AUDIT_KEY"):
        return
    if not DEMO_AUDIT_KEY.exists():
        if not create:
            return
        signing.create_key_file(DEMO_AUDIT_KEY)
    os.environ["HUB_AUDIT_KEY_FILE"] = str(DEMO_AUDIT_KEY)


def demo(host: str, port: int, workers: int, entities: int, seed: int, reseed: bool) -> None:
    # The demo signs its own HS256 tokens; every worker inherits the secret.
    os.environ.setdefault("HUB_JWT_SECRET", secrets.token_urlsafe(32))
    _demo_audit_key(create=True)
    try:
        signer = signing.from_env()
    except signing.AuditKeyError as e:
        sys.exit(str(e))
    if signer is not None:
        print(f"audit checkpoints are signed by public key {signer.public_key} (base64)")
    os.environ.setdefault("HUB_DEV_MODE", "1")
    os.environ.setdefault("HUB_CACHE", "on")
    os.environ.setdefault("FIRE_API_TOKEN", secrets.token_urlsafe(24))
    os.environ.setdefault(
        "FIRE_API_URL", f"http://127.0.0.1:{os.environ.get('FIRE_API_PORT', '8101')}"
    )
    sample = asyncio.run(_prepare_demo(entities, seed, reseed))
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/graphql"
    fire_api = _start_fire_api()
    cfg = AuthConfig.from_env()
    planner = issue_token(cfg, "planner-demo", "market", ["planner"], name="联合抽查办公室")
    inspectors = "".join(
        f"    {dept:<10} {issue_token(cfg, f'inspector-{dept}', dept, ['officer', 'inspector'])}\n"
        for dept in ("market", "ecology", "emergency", "culture", "fire", "health")
    )
    # Four eyes: reviewers are other people than the inspectors who enter results.
    reviewers = "".join(
        f"    {dept:<10} {issue_token(cfg, f'reviewer-{dept}', dept, ['officer', 'reviewer'])}\n"
        for dept in ("market", "ecology", "emergency", "culture", "fire")
    )
    # Credit repair: an officer files on the entity's behalf, another person reviews.
    repairs = (
        f"    officer    {issue_token(cfg, 'officer-credit', 'credit', ['officer'])}\n"
        f"    reviewer   {issue_token(cfg, 'reviewer-credit', 'credit', ['officer', 'reviewer'])}\n"
    )
    print(
        f"\nJoint Supervision Hub on demo data\n  GraphiQL: {url}\n"
        f"  (add the header  Authorization: Bearer <token>  in GraphiQL's Headers tab)\n"
        f"  planning page: {url.removesuffix('/graphql')}/plan/  (paste the planner token)\n"
        f"  planner token (market, 8 h): {planner}\n"
        f"  inspector tokens (enter results for teams with their department, 8 h):\n"
        f"{inspectors}"
        f"  reviewer tokens (review results their department entered or leads, 8 h):\n"
        f"{reviewers}"
        f"  credit platform tokens (file credit repairs / review them, 8 h):\n"
        f"{repairs}"
        f"  fire rescue's own API (read by the hub's HTTP adapter): {os.environ['FIRE_API_URL']}\n"
        f"  try:\n{EXAMPLE.format(uscc=sample)}\n",
        flush=True,
    )
    # uvicorn re-raises the signal that stopped it once it has shut down: a SIGTERM (from a
    # process manager) then ends this process as an exception, so the fire API stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(host, port, workers)
    finally:
        fire_api.terminate()
        fire_api.wait(10)
        _fire_pidfile().unlink(missing_ok=True)


def _fire_pidfile() -> Path:
    return settings_mod.ROOT / ".hub" / f"fire-api-{os.environ.get('FIRE_API_PORT', '8101')}.pid"


def _start_fire_api() -> subprocess.Popen[bytes]:
    """Fire rescue keeps its data behind its own JSON API in the demo (demo/fire_api.py):
    start it, and tell the hub where it is and which token it takes.

    It dies with this process, however this process ends (a parent-death signal); one that
    an earlier run left on the port (its pid is kept under .hub/) is stopped first."""
    port = int(os.environ.get("FIRE_API_PORT", "8101"))
    pidfile = _fire_pidfile()
    stale = kill_orphan(
        pidfile, Path(sys.executable).name[:15], signal.SIGTERM, argv_has=b"demo.fire_api"
    )
    if stale is not None:
        print(
            f"stopped the fire rescue API an earlier run left on port {port} (pid {stale})",
            file=sys.stderr,
        )
    parent = os.getpid()
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.fire_api", "--port", str(port)],
        preexec_fn=lambda: die_with_parent(signal.SIGTERM, parent),
    )
    pidfile.parent.mkdir(exist_ok=True)
    pidfile.write_text(f"{proc.pid}\n")
    headers = {"authorization": f"Bearer {os.environ['FIRE_API_TOKEN']}"}
    for _ in range(200):
        try:
            if (
                httpx.get(f"{os.environ['FIRE_API_URL']}/health", headers=headers).status_code
                == 200
            ):
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.terminate()
    sys.exit("the fire rescue API did not start (is the port taken? set FIRE_API_PORT)")


async def _with_store(work: Any) -> Any:
    settings = settings_mod.from_env()
    _demo_audit_key(create=False)
    try:
        store = HubStore(settings.hub_dsn)
    except signing.AuditKeyError as e:
        sys.exit(str(e))
    await store.open(settings.database_url, f"{settings.db_prefix}hub")
    try:
        return await work(settings, store)
    finally:
        await store.close()


async def _migrate(settings: settings_mod.Settings, store: HubStore) -> int:
    print(f"hub store {settings.db_prefix}hub is at the latest migration")
    return 0


def _task_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        sys.exit(f"{value!r} is not a task id")


async def _verify_draw(task: str) -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        check = await verify_draw(store.pool, _task_id(task))
        print(orjson.dumps(dataclasses.asdict(check), option=orjson.OPT_INDENT_2).decode())
        print(
            "MATCH: the draw recomputes from the revealed seed and the frozen population"
            if check.ok
            else "MISMATCH: " + "; ".join(check.problems)
        )
        return 0 if check.ok else 1

    return await _with_store(work)


async def _export_draw(task: str) -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        record = await draw_record(store.pool, _task_id(task))
        if record is None:
            print(f"no task {task}", file=sys.stderr)
            return 1
        sys.stdout.buffer.write(orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n")
        return 0

    return await _with_store(work)


def _kept_checkpoint(path: str, task: uuid.UUID) -> checkpoints.Checkpoint:
    """A checkpoint saved from auditCheckpoint / auditLogCheckpoint (the object, or the whole
    GraphQL answer)."""
    try:
        with open(path, "rb") as f:
            cp = checkpoints.from_public(orjson.loads(f.read()), str(task))
    except (OSError, orjson.JSONDecodeError, checkpoints.BadCheckpoint) as e:
        sys.exit(f"{path}: {e}")
    if cp.scope not in (str(task), checkpoints.LOG):
        sys.exit(f"{path} is a checkpoint of task {cp.scope}, not of {task}")
    return cp


async def _verify_audit(task: str, kept_files: list[str]) -> int:
    task_id = _task_id(task)
    kept = [_kept_checkpoint(p, task_id) for p in kept_files]

    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        if not store.trusted_keys:
            print("no trusted public key: set HUB_AUDIT_TRUSTED_KEYS (or the hub's key)")
        check = await audit_verify.verify(
            store.pool, task_id, store.trusted_keys, kept, whole_log=True
        )
        if check.ok and not check.entries:
            print(f"no audit entries for task {task_id}")
            return 1
        if not check.ok:
            print(f"BROKEN: {len(check.problems)} problem(s), the first one first:")
            for p in sorted(check.problems, key=lambda p: p is not check.first):
                named = p.message.startswith("entry #") or not (p.entry and p.seq)
                print(f"  {'' if named else f'entry #{p.entry} (seq {p.seq}): '}{p.message}")
            return 1
        cp, log_cp = check.checkpoint, check.log_checkpoint
        print(
            f"OK: {check.entries} entries, chain intact"
            + (f" ({check.pre_anchoring} written before anchoring)" if check.pre_anchoring else "")
            + "; every anchored row is as its entry recorded it"
            + (f" ({check.unanchored_rows} older rows unanchored)" if check.unanchored_rows else "")
            + (f"; the checkpoint signed at {cp.signed_at} (#{cp.count}) matches" if cp else "")
            + (
                f"; the whole log's {check.log_entries} entries match checkpoint #{log_cp.count}"
                if log_cp
                else ""
            )
            + (f"; {len(kept)} kept checkpoint(s) match" if kept else "")
        )
        return 0

    return await _with_store(work)


def _print_dead(rows: list[Any]) -> None:
    for r in rows:
        print(
            orjson.dumps(
                {
                    "event": r["event_id"],
                    "consumer": r["consumer"],
                    "kind": r["kind"],
                    "taskId": str(r["task_id"]) if r["task_id"] else None,
                    "visitId": str(r["visit_id"]) if r["visit_id"] else None,
                    "attempts": r["attempts"],
                    "deadAt": r["dead_at"].isoformat(),
                    "lastError": r["last_error"],
                }
            ).decode()
        )
    print(f"{len(rows)} dead letter(s)", file=sys.stderr)


async def _deliver_credit(args: argparse.Namespace) -> int:
    """Deliver pending credit feedback now (the worker in each hub process does it anyway);
    --dead lists dead letters, --replay makes them pending again first."""

    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        if args.dead:
            _print_dead(await deliveries.dead(store.pool, CREDIT, args.limit))
            return 0
        if args.replay:
            print(f"{await deliveries.replay(store.pool, CREDIT)} dead letter(s) pending again")
        registry = Registry.from_settings(settings)
        await registry.open()
        try:
            worker = DeliveryWorker(
                lambda: store.pool,
                {CREDIT: CreditFeedback(registry, lambda: store.pool)},
                Policy.from_env(),
            )
            done = await deliver_now(worker)
        finally:
            await registry.close()
        print(f"delivered {done.delivered} result(s) to the credit platform")
        for error in done.errors:
            print(f"not delivered: {error} (retried later)", file=sys.stderr)
        return 1 if done.failed or done.dead else 0

    return await _with_store(work)


def _webhook_id(value: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        sys.exit(f"{value!r} is not a webhook id")


async def _webhook(args: argparse.Namespace) -> int:
    """Department webhooks: add (prints the signing secret once), list, remove, and their
    dead letters: dead, replay."""

    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        pool = store.pool
        consumer = f"webhook:{_webhook_id(args.id)}" if args.id else "webhook"
        if args.action == "add":
            try:
                box = webhooks.SecretBox.from_env()
            except (OSError, ValueError) as e:
                print(f"NO_WEBHOOK_KEY: HUB_WEBHOOK_KEY is not a usable key ({e})", file=sys.stderr)
                return 2
            try:
                row, secret = await webhooks.register(
                    pool,
                    box,
                    [d.code for d in settings.departments],
                    args.department or "",
                    args.url or "",
                    args.kind,
                    f"cli:{os.environ.get('USER', 'operator')}",
                )
            except webhooks.WebhookError as e:
                print(f"{e.reason}: {e}", file=sys.stderr)
                return 2
            print(orjson.dumps(webhooks.describe(row)).decode())
            print(f"secret (shown once; the receiver verifies X-Hub-Signature with it): {secret}")
        elif args.action == "list":
            for row in await webhook_store.listed(pool, args.department):
                print(orjson.dumps(webhooks.describe(row)).decode())
        elif args.action == "remove":
            removed = await webhook_store.remove(pool, _webhook_id(args.id))
            print("removed" if removed else "no such active webhook")
            return 0 if removed else 1
        elif args.action == "dead":
            _print_dead(await deliveries.dead(pool, consumer, args.limit))
        else:
            n = await deliveries.replay(pool, consumer, args.event)
            print(f"{n} dead letter(s) pending again; the hub's delivery worker sends them")
        return 0

    return await _with_store(work)


async def _api_key(args: argparse.Namespace) -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        if args.action == "create":
            key = await access.create_key(store.pool, args.owner, args.scope)
            print(key)
            return 0
        revoked = await access.revoke_key(store.pool, args.id)
        print("revoked" if revoked else "no such active key")
        return 0 if revoked else 1

    return await _with_store(work)


async def _register(args: argparse.Namespace) -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        document = sys.stdin.read() if args.file == "-" else open(args.file).read()  # noqa: SIM115
        digest = await access.register_operation(store.pool, args.name, document, args.scope)
        print(digest)
        return 0

    return await _with_store(work)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "demo"):
        p = sub.add_parser(name)
        p.add_argument("--host", default=os.environ.get("HUB_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
        p.add_argument("--workers", type=int, default=int(os.environ.get("HUB_WORKERS", "1")))
        if name == "demo":
            p.add_argument("--entities", type=int, default=20_000)
            p.add_argument("--seed", type=int, default=7)
            p.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    p = sub.add_parser("seed", help="(re)create and fill the demo department databases")
    p.add_argument("--entities", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=7)
    sub.add_parser("migrate", help="create the hub store and apply pending migrations")
    p = sub.add_parser("verify-draw", help="recompute a task's draw from its revealed seed")
    p.add_argument("task")
    p = sub.add_parser(
        "export-draw", help="print a task's public draw record (JSON) for verify/verify_draw.py"
    )
    p.add_argument("task")
    p = sub.add_parser(
        "verify-audit",
        help="check a task's audit trail, its rows and signed checkpoints; name the first break",
    )
    p.add_argument("task")
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint kept earlier (auditCheckpoint or auditLogCheckpoint as JSON)",
    )
    p = sub.add_parser("deliver-credit", help="deliver pending credit feedback now")
    p.add_argument("--dead", action="store_true", help="list dead letters instead")
    p.add_argument("--replay", action="store_true", help="make dead letters pending first")
    p.add_argument("--limit", type=int, default=100)
    p = sub.add_parser("webhook", help="department webhooks and their dead letters")
    p.add_argument("action", choices=["add", "list", "remove", "dead", "replay"])
    p.add_argument("--id", help="the webhook (remove; narrows dead and replay)")
    p.add_argument("--department", help="add: whose systems; list: narrows")
    p.add_argument("--url", help="add: where to POST")
    p.add_argument("--kind", action="append", default=[], help="add: an event kind (repeat)")
    p.add_argument("--event", type=int, help="replay: only this event id")
    p.add_argument("--limit", type=int, default=100)
    sub.add_parser("sdl", help="print the federation subgraph SDL (what _service { sdl } serves)")
    p = sub.add_parser("token", help="sign a token with HUB_JWT_SECRET (demo identities)")
    p.add_argument("--sub", required=True)
    p.add_argument("--dept", required=True)
    p.add_argument(
        "--role", action="append", default=[], help="officer, inspector, reviewer, planner"
    )
    p.add_argument("--ttl", type=int, default=8 * 3600)
    p = sub.add_parser("api-key", help="create or revoke an integration partner's API key")
    p.add_argument("action", choices=["create", "revoke"])
    p.add_argument("--owner")
    p.add_argument("--scope", action="append", default=[], help="e.g. entities:read")
    p.add_argument("--id", help="the key id to revoke (the part after jsh_)")
    p = sub.add_parser("register-operation", help="allow a document for partners, by scopes")
    p.add_argument("file", help="the GraphQL document, or - for standard input")
    p.add_argument("--name", required=True)
    p.add_argument("--scope", action="append", default=[])
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "demo":
        demo(args.host, args.port, args.workers, args.entities, args.seed, args.reseed)
    elif args.command == "seed":
        sample = asyncio.run(_prepare_demo(args.entities, args.seed, reseed=True))
        print(f"seeded; sample entity {sample}")
    elif args.command == "migrate":
        sys.exit(asyncio.run(_with_store(_migrate)))
    elif args.command == "verify-draw":
        sys.exit(asyncio.run(_verify_draw(args.task)))
    elif args.command == "export-draw":
        sys.exit(asyncio.run(_export_draw(args.task)))
    elif args.command == "verify-audit":
        sys.exit(asyncio.run(_verify_audit(args.task, args.checkpoint)))
    elif args.command == "deliver-credit":
        sys.exit(asyncio.run(_deliver_credit(args)))
    elif args.command == "webhook":
        sys.exit(asyncio.run(_webhook(args)))
    elif args.command == "sdl":
        from schemas.schema import schema

        print(schema.as_str())
    elif args.command == "token":
        print(
            issue_token(
                AuthConfig.from_env(), args.sub, args.dept, args.role or ["officer"], ttl=args.ttl
            )
        )
    elif args.command == "api-key":
        sys.exit(asyncio.run(_api_key(args)))
    elif args.command == "register-operation":
        sys.exit(asyncio.run(_register(args)))


if __name__ == "__main__":
    main()
