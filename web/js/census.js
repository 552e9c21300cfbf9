// The population of a task before it is saved: how many entities each credit grade holds and
// how many visits the plan will make of them, from the public `entities` query alone.
//
// `entities { totalCount }` cannot count by credit grade (grades live at the credit platform,
// the register at market regulation), so the register is read in cells of one district and
// one entity kind, each with its totalCount, a page of 100 at a time, with every entity's
// grade, list memberships and (when an exclusion window is set) inspections. A cell read to
// its end is counted exactly; past the reading budget, a cell's pages read so far stand for
// the whole cell (within a cell the register's order, by organisation code, is arbitrary).
// The rules applied to what was read are those of the draw (planning/entity_draw.py).

import { DISTRICTS, KINDS } from './i18n.js';

const PAGE = 100;
// What one request may hold (README, "Before execution"): aliases, and a cost in which a page
// of 100 entities counts 802, or 4,802 with their inspections (20 per entity, as declared).
const LIMITS = { planner: { aliases: 30, cost: 50_000 }, officer: { aliases: 20, cost: 20_000 } };
const PAGE_COST = { plain: 802, inspections: 4802 };
const INACTIVE = new Set(['DEREGISTERED', 'REVOKED']);
const LISTS = new Set(['ABNORMAL_OPERATION', 'SERIOUS_VIOLATION']);
const UNRATED = 'B'; // the draw counts an entity the credit platform has not rated as grade B
const RISK = ['D', 'C', 'B', 'A'];
// Priority of the strata when a floor tops up or a cap cuts: listed ones first, riskiest first.
export const STRATA = [...RISK.map((g) => [g, true]), ...RISK.map((g) => [g, false])];

/** A ratio as an exact fraction from its decimal text: "12.5" (percent) -> 125/1000. */
export function fraction(text, scale = 1) {
  const s = String(text ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return null;
  const [whole, part = ''] = s.split('.');
  return { n: Number(whole + part), d: 10 ** part.length * scale };
}

/** Percent text -> the ratio the API takes, shifted in decimal so 14.3 becomes 0.143 exactly. */
export function ratioOfPercent(text) {
  const f = fraction(text, 100);
  return f === null ? null : Number((f.n / f.d).toPrecision(12));
}

function stratumRatio(plan, grade, listed) {
  const base = plan.ratios[grade] || { n: 0, d: 1 };
  if (!listed) return base;
  if (plan.alwaysIncludeAbnormal) return { n: 1, d: 1 };
  const m = plan.multiplier || { n: 2, d: 1 };
  const r = { n: base.n * m.n, d: base.d * m.d };
  return r.n >= r.d ? { n: 1, d: 1 } : r;
}

/** Entities drawn per stratum: ceil(ratio x size), raised to the floor, cut to the cap
 *  (the cut falls on the lowest-risk strata first), as `allocate` does in the draw. */
export function allocate(plan, size) {
  const take = new Map();
  const ratio = new Map();
  for (const [g, l] of STRATA) {
    const key = g + l;
    const r = stratumRatio(plan, g, l);
    ratio.set(key, r);
    take.set(key, Math.ceil((r.n * (size.get(key) || 0)) / r.d));
  }
  let missing = (plan.floor || 0) - [...take.values()].reduce((a, b) => a + b, 0);
  for (const [g, l] of STRATA) {
    if (missing <= 0) break;
    const key = g + l;
    if (ratio.get(key).n > 0) {
      const extra = Math.min((size.get(key) || 0) - take.get(key), missing);
      take.set(key, take.get(key) + extra);
      missing -= extra;
    }
  }
  const total = [...take.values()].reduce((a, b) => a + b, 0);
  if (plan.cap !== null && plan.cap !== undefined && total > plan.cap) {
    let room = plan.cap;
    for (const [g, l] of STRATA) {
      const key = g + l;
      take.set(key, Math.min(take.get(key), room));
      room -= take.get(key);
    }
  }
  return take;
}

const FIELDS = (withInspections) => `uscc name status industry { code } credit { grade lists { kind } }${
  withInspections ? ' inspections { inspectedOn department { code } }' : ''}`;

/**
 * Read the register for `scope` (an EntityFilter without credit grades).
 * Returns { cells, rows, read, total, exact } where each row carries its cell's weight.
 * `onProgress(read, total)` is called after every request.
 */
export async function readPopulation(run, scope, { withInspections = false, client = 'planner', budget = 5000, onProgress = () => {} } = {}) {
  const districts = scope.district?.length ? scope.district : DISTRICTS.map(([code]) => code);
  const kinds = scope.kind?.length ? scope.kind : KINDS;
  const base = {};
  for (const k of ['industry', 'status', 'nameContains']) if (scope[k]?.length) base[k] = scope[k];
  const cells = districts.flatMap((district) => kinds.map((kind) => ({
    filter: { ...base, district: [district], kind: [kind] }, kind, total: null, rows: [], after: null, more: true,
  })));
  // Inspections are the costly part of an entity, so fewer cells fit in one request then;
  // two aliases stay free for the scope's count and a margin.
  const limits = LIMITS[client] || LIMITS.officer;
  const perRequest = Math.min(20, limits.aliases - 2,
    Math.floor((limits.cost - 200) / PAGE_COST[withInspections ? 'inspections' : 'plain']));
  let read = 0;
  let scopeTotal = null;
  for (;;) {
    // Every cell gets its first page (its count); after that, the least-read cells first.
    const todo = cells
      .filter((c) => c.more && (c.total === null || read < budget))
      .sort((a, b) => (a.total === null) - (b.total === null) || a.rows.length - b.rows.length)
      .slice(0, perRequest);
    if (!todo.length) break;
    const vars = {};
    const defs = [];
    const parts = [];
    if (scopeTotal === null) {
      defs.push('$scope: EntityFilter');
      vars.scope = { ...base, ...(scope.district?.length ? { district: scope.district } : {}), ...(scope.kind?.length ? { kind: scope.kind } : {}) };
      parts.push('scope: entities(filter: $scope, first: 0) { totalCount }');
    }
    todo.forEach((c, i) => {
      defs.push(`$f${i}: EntityFilter`, `$a${i}: String`);
      vars[`f${i}`] = c.filter;
      vars[`a${i}`] = c.after;
      parts.push(`c${i}: entities(filter: $f${i}, first: ${PAGE}, after: $a${i}) {${c.total === null ? ' totalCount' : ''}
        pageInfo { hasNextPage endCursor } edges { node { ${FIELDS(withInspections)} } } }`);
    });
    const data = await run(`query Census(${defs.join(', ')}) {\n${parts.join('\n')}\n}`, vars);
    if (data.scope) scopeTotal = data.scope.totalCount;
    todo.forEach((c, i) => {
      const page = data[`c${i}`];
      if (c.total === null) c.total = page.totalCount;
      for (const { node } of page.edges) c.rows.push(entityOf(node, c.kind));
      c.after = page.pageInfo.endCursor;
      c.more = page.pageInfo.hasNextPage;
      read += page.edges.length;
    });
    const known = cells.reduce((sum, c) => sum + (c.total ?? 0), 0);
    onProgress(read, Math.max(known, scopeTotal ?? 0));
  }
  const inCells = cells.reduce((sum, c) => sum + c.total, 0);
  // Entities outside the ten districts (a register with other codes) are in no cell: the
  // cells' mix stands for them too.
  const outside = inCells > 0 && scopeTotal > inCells ? scopeTotal / inCells : 1;
  const rows = cells.flatMap((c) => c.rows.map((r) => ({ ...r, weight: (c.total / c.rows.length) * outside })));
  return {
    rows,
    read,
    total: scopeTotal ?? inCells,
    exact: outside === 1 && cells.every((c) => c.rows.length === c.total),
    withInspections,
  };
}

function entityOf(node, kind) {
  return {
    uscc: node.uscc,
    name: node.name,
    kind,
    industry: node.industry?.code ?? null,
    status: node.status,
    grade: node.credit?.grade || UNRATED,
    listed: (node.credit?.lists || []).some((l) => LISTS.has(l.kind)),
    inspections: (node.inspections || []).map((i) => [i.department.code, i.inspectedOn]),
  };
}

/** Whether any of the departments' items applies to an entity of this kind and industry. */
const applies = (i, kind, industry) =>
  (!i.kinds.length || i.kinds.includes(kind)) && (!i.industries.length || i.industries.includes(industry));

export function applicable(items, kind, industry) {
  return items.some((i) => applies(i, kind, industry));
}

/** Items of one entity shape that share a standard code merge into one entry: how many go. */
function itemsSaved(items, kind, industry) {
  const mine = items.filter((i) => applies(i, kind, industry));
  return mine.length - new Set(mine.map((i) => i.standardCode || `${i.department}:${i.code}`)).size;
}

function isoDaysAgo(days, today = new Date()) {
  const d = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate()));
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/**
 * Apply a plan to what was read: population and expected visits per grade, exclusions.
 * `items`: the checklist items of the task's departments; `grades`: the scope's grades.
 */
export function summarize(census, { items, departments, grades, plan }) {
  const size = new Map();
  const excluded = { NO_APPLICABLE_ITEMS: 0, INACTIVE: 0, RECENTLY_INSPECTED: 0 };
  const cutoff = plan.exclusionDays ? isoDaysAgo(plan.exclusionDays) : null;
  const samples = new Map();
  for (const e of census.rows) {
    // The order of the draw: no applicable item, then outside the grades asked for (not
    // counted anywhere), then inactive, then recently inspected.
    if (!applicable(items, e.kind, e.industry)) {
      excluded.NO_APPLICABLE_ITEMS += e.weight;
      continue;
    }
    if (grades?.length && !grades.includes(e.grade)) continue;
    if (INACTIVE.has(e.status)) {
      excluded.INACTIVE += e.weight;
      continue;
    }
    if (cutoff && e.inspections.some(([d, on]) => departments.includes(d) && on && on > cutoff)) {
      excluded.RECENTLY_INSPECTED += e.weight;
      continue;
    }
    const key = e.grade + e.listed;
    size.set(key, (size.get(key) || 0) + e.weight);
    // One sample entity per (kind, industry): the merged form depends on nothing else.
    const shape = `${e.kind}/${e.industry}`;
    if (!samples.has(shape)) samples.set(shape, e);
  }
  for (const [k, v] of size) size.set(k, Math.round(v));
  const take = allocate(plan, size);
  const perGrade = ['A', 'B', 'C', 'D'].map((grade) => ({
    grade,
    population: (size.get(`${grade}true`) || 0) + (size.get(`${grade}false`) || 0),
    listed: size.get(`${grade}true`) || 0,
    expected: take.get(`${grade}true`) + take.get(`${grade}false`),
  }));
  return {
    perGrade,
    expected: perGrade.reduce((s, g) => s + g.expected, 0),
    excluded: Object.fromEntries(Object.entries(excluded).map(([k, v]) => [k, Math.round(v)])),
    exact: census.exact,
    // Shapes whose form merges the most first: the preview shows what merging does.
    samples: [...samples.values()]
      .map((e) => [itemsSaved(items, e.kind, e.industry), e])
      .sort((a, b) => b[0] - a[0])
      .map(([, e]) => e)
      .slice(0, 24),
  };
}
