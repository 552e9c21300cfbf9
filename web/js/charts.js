// The "look" of a draw: drawn entities on a grid of the ten districts, coloured by credit
// grade, and inline SVG charts of each grade's population against its drawn sample.
// No library and no network: the page must work on a hub without outside access.

import { DISTRICTS, GRADES, districtName, label, t } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_DOTS = 400; // per district; past that the counts per grade still tell the story

function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const kid of kids) el.append(kid);
  return el;
}

function div(cls, ...kids) {
  const el = document.createElement('div');
  el.className = cls;
  for (const kid of kids) if (kid != null) el.append(kid);
  return el;
}

/** Ten district cells; each lists its drawn visits as dots coloured by grade. */
export function districtGrid(visits) {
  const grid = div('district-grid');
  grid.setAttribute('data-testid', 'district-grid');
  const known = new Set(DISTRICTS.map(([code]) => code));
  const others = visits.filter((v) => !known.has(v.district));
  const cells = DISTRICTS.map(([code]) => [code, visits.filter((v) => v.district === code)]);
  if (others.length) cells.push(['other', others]);
  for (const [code, mine] of cells) {
    const counts = GRADES.map((g) => [g, mine.filter((v) => v.grade === g).length]).filter(([, n]) => n);
    const dots = div('dots');
    for (const v of mine.slice(0, MAX_DOTS)) {
      const dot = div(`dot grade-${v.grade}`);
      dot.title = `${v.entityName || v.uscc} · ${label('grade', v.grade)} · ${t(`state.${v.state}`)}`;
      dot.dataset.grade = v.grade;
      dots.append(dot);
    }
    const cell = div(
      `district${mine.length ? '' : ' empty'}`,
      div('district-head', Object.assign(document.createElement('strong'), {
        textContent: code === 'other' ? '—' : districtName(code),
      }), Object.assign(document.createElement('span'), { className: 'muted', textContent: t('visitsN', { n: mine.length }) })),
      dots,
      div('grade-counts', ...counts.map(([g, n]) => Object.assign(document.createElement('span'), {
        className: `pill grade-${g}`, textContent: `${g} ${n}`,
      }))),
    );
    cell.dataset.district = code;
    cell.dataset.count = String(mine.length);
    grid.append(cell);
  }
  return grid;
}

const fmt = (n) => n.toLocaleString();
const pct = (x) => `${(Math.round(x * 1000) / 10).toString()}%`;

/**
 * Horizontal bars per grade: the population (pale), the drawn sample (solid) on the same
 * scale, and a tick where the plan's ratio falls; the label gives the numbers.
 * rows: [{grade, population, drawn, ratio}]
 */
export function populationChart(rows) {
  const width = 520;
  const left = 34;
  const right = 190;
  const bar = 24;
  const gap = 14;
  const height = rows.length * (bar + gap) + 30;
  const max = Math.max(1, ...rows.map((r) => r.population));
  const scale = (n) => ((width - left - right) * n) / max;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'data-testid': 'population-chart',
    'aria-label': t('chart'),
  });
  rows.forEach((r, i) => {
    const y = 6 + i * (bar + gap);
    const g = s('g', { class: `grade-${r.grade}`, 'data-grade': r.grade, 'data-population': r.population, 'data-drawn': r.drawn });
    g.append(
      s('title', {}, label('grade', r.grade)),
      s('rect', { x: 0, y: y + 2, width: 22, height: bar - 4, rx: 4, class: 'bar-drawn' }),
      s('text', { x: 11, y: y + bar * 0.7, class: 'chart-letter', 'text-anchor': 'middle' }, r.grade),
      s('rect', { x: left, y, width: Math.max(1, scale(r.population)), height: bar, class: 'bar-population' }),
      s('rect', { x: left, y: y + 4, width: r.drawn ? Math.max(2, scale(r.drawn)) : 0, height: bar - 8, class: 'bar-drawn' }),
    );
    if (r.ratio !== null && r.population) {
      const x = left + scale(Math.min(r.population, Math.ceil(r.ratio * r.population)));
      g.append(s('line', { x1: x, x2: x, y1: y - 3, y2: y + bar + 3, class: 'plan-tick' }));
    }
    const rate = r.population ? ` = ${pct(r.drawn / r.population)}` : '';
    g.append(s('text', { x: width - right + 8, y: y + bar * 0.7, class: 'chart-value' },
      `${fmt(r.drawn)} / ${fmt(r.population)}${rate} (${t('planMarker')} ${pct(r.ratio ?? 0)})`));
    svg.append(g);
  });
  const legendY = height - 6;
  svg.append(
    s('rect', { x: left, y: legendY - 10, width: 14, height: 10, class: 'bar-population legend' }),
    s('text', { x: left + 20, y: legendY, class: 'chart-legend' }, t('population')),
    s('rect', { x: left + 110, y: legendY - 10, width: 14, height: 10, class: 'bar-drawn legend' }),
    s('text', { x: left + 130, y: legendY, class: 'chart-legend' }, t('drawn')),
    s('line', { x1: left + 220, x2: left + 220, y1: legendY - 11, y2: legendY + 1, class: 'plan-tick' }),
    s('text', { x: left + 228, y: legendY, class: 'chart-legend' }, t('planMarker')),
  );
  return svg;
}

/** Vertical bars of the drawn share per grade with a dashed line at the planned ratio:
 *  a draw that followed the plan has every bar ending on its line (floor and cap aside). */
export function rateChart(rows) {
  const width = 360;
  const height = 200;
  const top = 16;
  const bottom = 34;
  const left = 36;
  const inner = height - top - bottom;
  const slot = (width - left) / rows.length;
  const y = (share) => top + inner * (1 - share);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'data-testid': 'rate-chart', 'aria-label': t('rateChart'),
  });
  for (const share of [0, 0.5, 1]) {
    svg.append(
      s('line', { x1: left, x2: width, y1: y(share), y2: y(share), class: 'axis' }),
      s('text', { x: left - 6, y: y(share) + 4, class: 'chart-axis', 'text-anchor': 'end' }, `${share * 100}%`),
    );
  }
  rows.forEach((r, i) => {
    const x = left + i * slot + slot * 0.25;
    const w = slot * 0.5;
    const share = r.population ? r.drawn / r.population : 0;
    const g = s('g', { class: `grade-${r.grade}`, 'data-grade': r.grade });
    g.append(s('rect', { x, y: y(share), width: w, height: inner * share, class: 'bar-drawn' }));
    if (r.ratio !== null) {
      g.append(s('line', { x1: x - 6, x2: x + w + 6, y1: y(r.ratio), y2: y(r.ratio), class: 'plan-line' }));
    }
    g.append(
      s('text', { x: x + w / 2, y: height - bottom + 16, class: 'chart-axis', 'text-anchor': 'middle' }, r.grade),
      s('text', { x: x + w / 2, y: height - 4, class: 'chart-legend', 'text-anchor': 'middle' }, pct(share)),
    );
    svg.append(g);
  });
  return svg;
}
