"""Chinese-looking names, addresses and locations, drawn from a caller's random.Random."""

from __future__ import annotations

import random
from bisect import bisect

from demo.catalog import COOP, ENT, IND, JUD, PUB, SOC
from demo.sampling import cumulative, pick
from demo.vocab import (
    CHINESE_NUMERALS,
    COOP_PRODUCE,
    DISTRICTS,
    ENTERPRISE_SUFFIX,
    ENTERPRISE_SUFFIX_WEIGHTS,
    ENTERPRISE_WORDS,
    GIVEN,
    INDIVIDUAL_WORDS,
    LAT_RANGE,
    LON_RANGE,
    PUBLIC_WORDS,
    SOCIAL_WORDS,
    SURNAME_WEIGHTS,
    SURNAMES,
    TRADE,
    VILLAGE_SUFFIX,
)

_SURNAME_CUM = cumulative(SURNAME_WEIGHTS)
_SUFFIX_CUM = cumulative(ENTERPRISE_SUFFIX_WEIGHTS)


def person(r: random.Random) -> str:
    rnd = r.random
    name = SURNAMES[bisect(_SURNAME_CUM, rnd())] + GIVEN[int(rnd() * len(GIVEN))]
    return name if rnd() < 0.35 else name + GIVEN[int(rnd() * len(GIVEN))]


def trade_name(r: random.Random) -> str:
    a = pick(r, TRADE)
    b = pick(r, TRADE)
    return a + b if a != b else a + pick(r, TRADE)


def village(r: random.Random) -> str:
    return pick(r, SURNAMES) + pick(r, VILLAGE_SUFFIX) + "村"


def entity_name(r: random.Random, kind: int, section: str, district: int) -> str:
    d = DISTRICTS[district]
    if kind == ENT:
        suffix = ENTERPRISE_SUFFIX[bisect(_SUFFIX_CUM, r.random())]
        name = f"青岛{trade_name(r)}{pick(r, ENTERPRISE_WORDS[section])}{suffix}"
        if suffix == "有限公司" and r.random() < 0.03:  # a branch office
            name += f"{d.name}分公司"
        return name
    if kind == IND:
        shop = pick(r, INDIVIDUAL_WORDS[section])
        if r.random() < 0.3:
            return f"{d.name}{pick(r, ('老', ''))}{pick(r, SURNAMES)}记{shop}"
        return f"{d.name}{trade_name(r)}{shop}"
    if kind == COOP:
        town = pick(r, d.towns)
        if r.random() < 0.5:
            return f"{d.name}{town}{pick(r, COOP_PRODUCE)}专业合作社"
        return f"青岛{trade_name(r)}{pick(r, COOP_PRODUCE)}专业合作社"
    if kind == PUB:
        word = pick(r, PUBLIC_WORDS.get(section, PUBLIC_WORDS["L"]))
        if word in ("实验小学", "中学", "幼儿园"):
            word = f"第{pick(r, CHINESE_NUMERALS)}{word}"
        return f"青岛市{d.name}{word}"
    if kind == SOC:
        word = pick(r, SOCIAL_WORDS.get(section, SOCIAL_WORDS["L"]))
        if word.endswith("学校"):
            return f"青岛市{d.name}{trade_name(r)}{word}"
        return f"青岛市{word}"
    if kind == JUD:
        x = r.random()
        if x < 0.7:
            return f"山东{trade_name(r)}律师事务所"
        if x < 0.85:
            return f"山东省青岛市{d.name[:2]}公证处"
        return f"青岛{trade_name(r)}司法鉴定所"
    raise ValueError(f"unknown kind {kind}")


def address(r: random.Random, kind: int, district: int) -> str:
    d = DISTRICTS[district]
    rnd = r.random
    if kind == COOP:
        return f"山东省青岛市{d.name}{pick(r, d.towns)}{village(r)}"
    base = f"山东省青岛市{d.name}{pick(r, d.streets)}{int(rnd() * 399) + 1}号"
    x = rnd()
    if x < 0.35:
        return f"{base}{int(rnd() * 30) + 1}号楼{int(rnd() * 28) + 1}{int(rnd() * 4) + 1:02d}室"
    if x < 0.55:
        return f"{base}{int(rnd() * 12) + 1}号网点"
    return base


def location(r: random.Random, district: int) -> tuple[float, float]:
    """A point near the district's centre, kept inside the city's bounds."""
    d = DISTRICTS[district]
    for _ in range(8):
        lon = r.gauss(d.lon, d.spread)
        lat = r.gauss(d.lat, d.spread * 0.8)
        if LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
            break
    lon = min(max(lon, LON_RANGE[0]), LON_RANGE[1])
    lat = min(max(lat, LAT_RANGE[0]), LAT_RANGE[1])
    return round(lon, 6), round(lat, 6)
