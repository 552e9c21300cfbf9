#!/usr/bin/env python3
"""Recompute a joint inspection draw from its public record, with nothing but Python.

    python3 verify/verify_draw.py RECORD.json

RECORD.json is a task's public draw record: the answer of the public GraphQL query
``{ drawRecord(taskId: "...") }`` (its ``data.drawRecord``, or the whole answer) or the output of
``hub export-draw TASK``. This program recomputes the seed from its shares, the population's
hash, the strata, the allocation, every entity's rank, the drawn entities, every team and every
substitution, following docs/draw-spec.md, and compares each with what the hub recorded.

Exit status: 0 when every part matches; 1 when anything differs (each difference is printed);
2 when the file is not a draw record of a drawn task.

This is deliberately a second, independent implementation of the specification — written from
the document, using only the standard library and nothing of the hub's code — so that anyone
can check a draw without trusting the hub's software.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import sys
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

RING = 2**256
SLACK = 1  # workload band: at most one seat above the least-loaded eligible inspector
SEED_DOMAIN = b"jsh-seed-v1"
# Strata in priority order (§4): listed D, C, B, A, then unlisted D, C, B, A.
STRATA = [(g, True) for g in "DCBA"] + [(g, False) for g in "DCBA"]


class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, part: str, ok: bool, detail: str = "") -> bool:
        print(f"{'OK      ' if ok else 'MISMATCH'} {part}{': ' + detail if detail else ''}")
        if not ok:
            self.problems.append(part)
        return ok


def keyed(seed: bytes, message: str) -> bytes:
    """HMAC-SHA256 with the seed as key and the message in UTF-8 (§5, §7)."""
    return hmac.new(seed, message.encode("utf-8"), hashlib.sha256).digest()


# -- §1 the seed ---------------------------------------------------------------------------------
def recompute_seed(record: dict[str, Any], report: Report) -> bytes:
    s = record["seed"]
    hub = bytes.fromhex(s["hubShare"])
    report.check(
        "seed: the hub's share matches its commitment",
        hashlib.sha256(hub).hexdigest() == s["hubCommitment"],
    )
    shares = []
    for o in sorted(s["observers"], key=lambda o: o["ordinal"]):
        share = bytes.fromhex(o["share"] or "")
        report.check(
            f"seed: observer {o['ordinal']} ({o['name']})'s share matches its commitment",
            len(share) == 32 and hashlib.sha256(share).hexdigest() == o["commitment"],
        )
        shares.append(share)
    seed = hashlib.sha256(SEED_DOMAIN + hub + b"".join(shares)).digest() if shares else hub
    report.check(
        "seed: made of its shares" if shares else "seed: the hub's share (no observers)",
        seed.hex() == s["seed"],
    )
    return seed


# -- §2 the population ---------------------------------------------------------------------------
def population_hash(columns: dict[str, Any]) -> str:
    dates = sorted((int(i), d) for i, d in columns["lastInspected"].items())
    text = "\n".join(
        [
            columns["uscc"],
            columns["grade"],
            columns["active"],
            columns["abnormal"],
            ",".join(f"{i}:{d}" for i, d in dates),
        ]
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def strata(
    record: dict[str, Any], drawn_on: date
) -> tuple[dict[tuple[str, bool], list[str]], int, int]:
    """§3: the eligible USCCs per stratum, and the counts of inactive and recently inspected."""
    columns = record["population"]["columns"]
    codes = columns["uscc"]
    days = record["plan"]["exclusionDays"]
    cutoff = None if days is None else drawn_on - timedelta(days=days)
    last = {int(i): date.fromisoformat(d) for i, d in columns["lastInspected"].items()}
    out: dict[tuple[str, bool], list[str]] = {s: [] for s in STRATA}
    inactive = recent = 0
    for i, grade in enumerate(columns["grade"]):
        if columns["active"][i] != "1":
            inactive += 1
        elif cutoff is not None and i in last and last[i] > cutoff:
            recent += 1
        else:
            out[grade, columns["abnormal"][i] == "1"].append(codes[18 * i : 18 * i + 18])
    return out, inactive, recent


# -- §4 allocation -------------------------------------------------------------------------------
def ratio_of(plan: dict[str, Any], grade: str, listed: bool) -> Fraction:
    base = Fraction(plan["ratioByGrade"].get(grade, "0"))
    if not listed:
        return base
    if plan["alwaysIncludeAbnormal"]:
        return Fraction(1)
    return min(Fraction(1), base * Fraction(plan["abnormalMultiplier"]))


def allocation(plan: dict[str, Any], sizes: dict[tuple[str, bool], int]) -> dict:
    ratio = {s: ratio_of(plan, *s) for s in STRATA}
    take = {s: math.ceil(ratio[s] * sizes[s]) for s in STRATA}
    missing = plan["floor"] - sum(take.values())
    for s in STRATA:
        if missing <= 0:
            break
        if ratio[s] > 0:
            extra = min(sizes[s] - take[s], missing)
            take[s] += extra
            missing -= extra
    total, cap = sum(take.values()), plan["cap"]
    if cap is not None and total > cap:
        if plan["capPolicy"] == "RISK_FIRST":
            room = cap
            for s in STRATA:
                take[s] = min(take[s], room)
                room -= take[s]
        else:  # PROPORTIONAL: largest remainder, ties to the higher-priority stratum
            exact = {s: Fraction(take[s] * cap, total) for s in STRATA}
            take = {s: math.floor(v) for s, v in exact.items()}
            order = sorted(STRATA, key=lambda s: -(exact[s] - take[s]))
            for s in order[: cap - sum(take.values())]:
                take[s] += 1
    return take


# -- §6 forms ------------------------------------------------------------------------------------
class Form:
    """What the team draw needs of a merged form: departments, who must send their own
    inspector, the tags of each department's items and of all of them."""

    def __init__(self, items: list[dict[str, Any]], kind: str, industry: str) -> None:
        seen: set[tuple[str, str]] = set()
        self.tags_of: dict[str, set[str]] = {}
        self.own: set[str] = set()
        for item in items:
            key = (item["department"], item["code"])
            if key in seen:
                continue
            if item["kinds"] and kind not in item["kinds"]:
                continue
            if item["industries"] and industry not in item["industries"]:
                continue
            seen.add(key)
            self.tags_of.setdefault(item["department"], set()).update(item["tags"])
            if not item["delegable"]:
                self.own.add(item["department"])
        self.departments = sorted(self.tags_of)
        self.tags = set().union(*self.tags_of.values()) if self.tags_of else set()


# -- §7 teams ------------------------------------------------------------------------------------
class Pools:
    def __init__(self, seed: bytes, inspectors: list[list[Any]]) -> None:
        self.seed = seed
        self.tags: dict[str, set[str]] = {}
        self.info: dict[str, tuple[str, str]] = {}  # on-duty id -> (department, district)
        self.position: dict[str, int] = {}
        self.local: dict[tuple[str, str], list[str]] = {}
        self.everywhere: dict[str, list[str]] = {}
        self.load: dict[str, int] = {}
        self.conflicted: dict[str, set[str]] = {}
        for ident, department, tags, district, available, conflicts in inspectors:
            self.tags[ident] = set(tags)
            for uscc in conflicts:
                self.conflicted.setdefault(uscc, set()).add(ident)
            if not available:
                continue
            self.info[ident] = (department, district)
            self.position[ident] = int.from_bytes(
                keyed(seed, f"inspector|{department}|{ident}"), "big"
            )
            self.local.setdefault((department, district), []).append(ident)
            self.everywhere.setdefault(department, []).append(ident)
            self.load[ident] = 0

    def offset(self, uscc: str, department: str, seat: int) -> int:
        return int.from_bytes(keyed(self.seed, f"seat|{uscc}|{department}|{seat}"), "big")

    def _best(self, members: list[str], offset: int, needed: set[str], excluded: set[str]) -> Any:
        eligible = [i for i in members if i not in excluded]
        if not eligible:
            return None
        least = min(self.load[i] for i in eligible)
        band = [i for i in eligible if self.load[i] <= least + SLACK]
        return min(
            band,
            key=lambda i: (
                -len(needed & self.tags[i]),
                self.load[i],
                (self.position[i] - offset) % RING,
            ),
        )

    def pick(
        self,
        department: str,
        district: str,
        offset: int,
        needed: set[str],
        exclude: set[str],
        previous: set[str],
    ) -> dict[str, Any] | None:
        """The seat's inspector (§7.2), or None when nobody may fill it."""
        mine = {i for i in exclude if self.info.get(i, ("",))[0] == department}
        rotated = mine | {i for i in previous if self.info.get(i, ("",))[0] == department}
        tiers = (
            (self.local.get((department, district)), False),
            (self.everywhere.get(department), True),
        )
        for members, wider in tiers:
            if not members:
                continue
            for excluded in (rotated, mine) if len(rotated) > len(mine) else (mine,):
                best = self._best(members, offset, needed, excluded)
                if best is not None:
                    return {
                        "id": best,
                        "widerPool": wider and self.info[best][1] != district,
                        "previous": best in previous,
                        "score": len(needed & self.tags[best]),
                        "load": self.load[best],
                        "rank": (self.position[best] - offset) % RING,
                    }
        return None


def draw_team(
    pools: Pools, uscc: str, district: str, form: Form, previous: set[str], size: int, lead: str
) -> tuple[list[dict[str, Any]], bool]:
    """One visit's team (§7.1) and whether every seat was filled."""
    members: list[dict[str, Any]] = []
    if not form.departments:
        return members, False
    exclude = set(pools.conflicted.get(uscc, ()))
    held = dict.fromkeys(form.departments, 0)
    own_tags: dict[str, set[str]] = {d: set() for d in form.departments}
    team_tags: set[str] = set()
    complete = True

    def take(department: str, pick: dict[str, Any]) -> None:
        members.append(
            {
                "inspector": pick["id"],
                "department": department,
                "role": "member" if members else "leader",
                "seat": held[department],
                "rank": f"{pick['rank']:064x}",
                "widerPool": pick["widerPool"],
            }
        )
        held[department] += 1
        own_tags[department] |= pools.tags[pick["id"]]
        team_tags.update(pools.tags[pick["id"]])
        exclude.add(pick["id"])
        pools.load[pick["id"]] += 1

    for department in sorted(form.departments, key=lambda d: (d != lead, d)):
        if department in form.own:
            needed = form.tags_of[department] - own_tags[department]
            offset = pools.offset(uscc, department, held[department])
            pick = pools.pick(department, district, offset, needed, exclude, previous)
            if pick is None:
                complete = False
            else:
                take(department, pick)
    target = max(size, len(form.own))
    while len(members) < target:
        uncovered = form.tags - team_tags
        best = None
        for department in form.departments:
            offset = pools.offset(uscc, department, held[department])
            pick = pools.pick(department, district, offset, uncovered, exclude, previous)
            if pick is None:
                continue
            key = (
                pick["widerPool"],
                held[department],
                pick["previous"],
                -pick["score"],
                pick["load"],
                pick["rank"],
            )
            if best is None or key < best[0]:
                best = (key, department, pick)
        if best is None:
            return members, False
        take(best[1], best[2])
    return members, complete


# -- §8 substitutions ----------------------------------------------------------------------------
def replay_substitutions(
    record: dict[str, Any],
    pools: Pools,
    forms: dict[str, Form],
    teams: dict[str, list[dict[str, Any]]],
    report: Report,
) -> None:
    history = {u: {m["inspector"] for m in team} for u, team in teams.items()}
    entities = record["entities"]
    previous = {u: set(ids) for u, ids in record["previous"].items()}
    for n, s in enumerate(record["substitutions"], 1):
        uscc = s["uscc"]
        team = teams.get(uscc, [])
        out = next((m for m in team if m["inspector"] == s["out"]), None)
        if out is None:
            report.check(f"substitution {n} ({uscc})", False, f"{s['out']} is not on the team")
            return
        others = [m for m in team if m is not out]
        own = set().union(
            *(
                pools.tags.get(m["inspector"], set())
                for m in others
                if m["department"] == out["department"]
            )
        )
        exclude = {m["inspector"] for m in team} | pools.conflicted.get(uscc, set()) | history[uscc]
        pick = pools.pick(
            out["department"],
            entities[uscc][2],
            pools.offset(uscc, out["department"], out["seat"]),
            forms[uscc].tags_of.get(out["department"], set()) - own,
            exclude,
            previous.get(uscc, set()),
        )
        got = None if pick is None else (pick["id"], f"{pick['rank']:064x}", pick["widerPool"])
        want = (s["in"], s["rank"], s["widerPool"])
        same_seat = (s["department"], s["seat"]) == (out["department"], out["seat"])
        if not report.check(
            f"substitution {n} ({uscc}, {s['out']} out)",
            got == want and same_seat,
            f"recomputed {got and got[0]}, recorded {s['in']}",
        ):
            return
        out["inspector"] = s["in"]
        out["rank"], out["widerPool"] = s["rank"], s["widerPool"]
        history[uscc].add(s["in"])
        pools.load[s["out"]] -= 1
        pools.load[s["in"]] += 1


# -- the whole check -----------------------------------------------------------------------------
def verify(record: dict[str, Any]) -> Report:
    report = Report()
    seed = recompute_seed(record, report)
    plan = record["plan"]
    pop = record["population"]
    report.check(
        f"population: {pop['size']:,} entities, hash of the frozen list",
        population_hash(pop["columns"]) == pop["sha256"]
        and len(pop["columns"]["grade"]) == pop["size"],
    )
    drawn_on = date.fromisoformat(record["task"]["drawnOn"])
    eligible, inactive, recent = strata(record, drawn_on)
    report.check(
        "population: exclusions (inactive, recently inspected)",
        (inactive, recent)
        == (pop["excluded"].get("INACTIVE", 0), pop["excluded"].get("RECENTLY_INSPECTED", 0)),
        f"recomputed {inactive} and {recent}",
    )
    take = allocation(plan, {s: len(v) for s, v in eligible.items()})
    for grade in "ABCD":
        counted = (
            sum(len(eligible[grade, f]) for f in (True, False)),
            take[grade, True] + take[grade, False],
        )
        claimed = pop["byGrade"][grade]
        report.check(
            f"grade {grade}: population and drawn",
            counted == (claimed["population"], claimed["drawn"]),
            f"recomputed {counted[0]} and {counted[1]}",
        )
    chosen = []
    for s in STRATA:
        ranked = sorted((keyed(seed, u), u) for u in eligible[s])
        chosen += ranked[: take[s]]
    chosen.sort()
    recomputed = [{"uscc": u, "rank": r.hex()} for r, u in chosen]
    same = recomputed == record["drawn"]
    diff = ""
    if not same:
        mine, theirs = {d["uscc"] for d in recomputed}, {d["uscc"] for d in record["drawn"]}
        only = sorted(mine - theirs)[:3], sorted(theirs - mine)[:3]
        diff = f"recomputed only {only[0]}, recorded only {only[1]}"
    if not report.check(f"entities: {len(recomputed):,} drawn, with their ranks", same, diff):
        report.check("teams: not recomputed (they are drawn for the entities above)", False)
        return report

    pools = Pools(seed, record["inspectors"])
    forms: dict[str, Form] = {}
    shapes: dict[tuple[str, str], Form] = {}
    teams: dict[str, list[dict[str, Any]]] = {}
    lead, size = record["task"]["lead"], record["task"]["teamSize"]
    for d in record["drawn"]:
        uscc = d["uscc"]
        kind, industry, district = record["entities"][uscc]
        form = shapes.get((kind, industry))
        if form is None:
            form = shapes[kind, industry] = Form(record["items"], kind, industry)
        forms[uscc] = form
        previous = set(record["previous"].get(uscc, ()))
        teams[uscc], _ = draw_team(pools, uscc, district, form, previous, size, lead)
    recorded = {t["uscc"]: t["members"] for t in record["teams"]}
    wrong = [u for u in teams if teams[u] != recorded.get(u)] + [
        u for u in recorded if u not in teams
    ]
    report.check(
        f"teams: {len(teams):,} teams, {sum(map(len, teams.values())):,} seats",
        not wrong,
        f"{len(wrong)} differ, first {wrong[:3]}" if wrong else "",
    )
    if not wrong:
        replay_substitutions(record, pools, forms, teams, report)
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    record = record.get("data", record)
    record = record.get("drawRecord", record) or {}
    if record.get("format") != "jsh-draw-record/1":
        print("not a draw record (format jsh-draw-record/1)", file=sys.stderr)
        return 2
    if record["task"]["status"] == "DRAFT":
        print(
            f"task {record['task']['id']} is not drawn yet; hub commitment "
            f"{record['seed']['hubCommitment']}",
            file=sys.stderr,
        )
        return 2
    print(
        f"draw of task {record['task']['id']} ({record['task']['title']}), "
        f"drawn on {record['task']['drawnOn']}"
    )
    report = verify(record)
    if report.problems:
        print(f"\nDIFFERS: {len(report.problems)} part(s) do not match the record")
        return 1
    print("\nMATCH: every part of the draw recomputes from the record")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
