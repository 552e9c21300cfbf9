// The planning page: compose → preview → draw → follow and publish → look, for one joint
// task at a time. All state lives in the hub (the task id is in the URL: #task=<id>) and is
// read again on every load; only tokens, the language and an unsaved draft stay in the browser.

import { gql, identities, decodeToken, idKey, expired, keyFor } from './api.js';
import {
  t, label, lang, setLang, describeError, districtName,
  DISTRICTS, KINDS, INDUSTRIES, GRADES, CATEGORIES, OUTCOMES,
} from './i18n.js';
import { readPopulation, summarize, fraction, ratioOfPercent } from './census.js';
import { districtGrid, populationChart, rateChart } from './charts.js';

// -- queries ----------------------------------------------------------------------------------
const Q_DEPARTMENTS = `{ departments { code name nameEn checklistItems { code kinds industries standardCode } } }`;
const Q_TASKS = `query Tasks { jointInspectionTasks(first: 30) { nodes { id title status createdAt } } }`;
const Q_TASK = `query Task($id: ID!) { jointInspectionTask(id: $id) {
  id title status teamSize windowStart windowEnd seedCommitment seed createdBy createdAt drawnAt closeReason
  leadDepartment { code } departments { code } scope
  plan { ratios { grade ratio } floor cap exclusionDays abnormalMultiplier alwaysIncludeAbnormal }
  population { grade population drawn } excluded { reason count }
  savings { visits dispatches separateVisits separateDispatches separateVisitsAvoided dispatchesAvoided }
  visitCounts { state count } } }`;
const Q_VISITS = `query Visits($id: ID!, $first: Int!, $offset: Int!, $state: [VisitState!]) {
  jointInspectionTask(id: $id) { visits(first: $first, offset: $offset, state: $state) {
    id uscc entityName district grade rank state
    team { inspectorId role widerPool department { code } }
    teamHistory { inspectorId replacedAt reason department { code } }
    result { version category concludedOn approved }
    publication { publishedOn deadline provisional late } } } }`;
const Q_MAP = `query Map($id: ID!, $offset: Int!) { jointInspectionTask(id: $id) {
  visits(first: 100, offset: $offset) { id uscc entityName district grade state } } }`;
const Q_VISIT = `query Visit($id: ID!) { jointVisit(id: $id) {
  id uscc entityName district grade rank state
  form { rawCount mergedCount departments entries { key name standardCode delegable
         requirements { itemCode itemName legalBasis delegable department { code } } } }
  team { inspectorId role widerPool department { code } }
  teamHistory { inspectorId role replacedAt reason origin department { code } }
  result { version category concludedOn outsideWindow enteredBy enteredSubject enteredDepartment
           enteredAt approved reviewedBy reviewComment entries { key outcome note } }
  publication { publishedOn deadline provisional late } } }`;
const Q_PREVIEW = `query Preview($d: [String!]!, $u: String!) { checklistPreview(departments: $d, uscc: $u) {
  entity { uscc name kind industry { code } } separateVisits jointVisits
  form { rawCount mergedCount entries { key name standardCode delegable
         requirements { itemCode itemName legalBasis delegable department { code } } } } } }`;
const Q_AUDIT = `query Audit($id: ID!) { auditTrail(taskId: $id) {
  entries { seq at actor action } verification { ok entries firstBrokenSeq reason } } }`;
const M_CREATE = `mutation Create($input: CreateJointInspectionTaskInput!) {
  createJointInspectionTask(input: $input) { id status seedCommitment } }`;
const M_DRAW = `mutation Draw($id: ID!, $key: String) { drawJointInspection(taskId: $id, idempotencyKey: $key) { id status seed } }`;
const M_SUBSTITUTE = `mutation Substitute($v: ID!, $i: String!, $r: String!, $key: String) {
  substituteInspector(visitId: $v, inspectorId: $i, reason: $r, idempotencyKey: $key) { id } }`;
const M_RECORD = `mutation Record($input: RecordVisitResultInput!) { recordVisitResult(input: $input) { id state } }`;
const M_REVIEW = `mutation Review($v: ID!, $ok: Boolean!, $c: String, $key: String) {
  reviewVisitResult(visitId: $v, approve: $ok, comment: $c, idempotencyKey: $key) { id state } }`;
const M_PUBLISH = `mutation Publish($id: ID!, $close: Boolean, $reason: String, $key: String) {
  publishTaskResults(taskId: $id, closeUnfinished: $close, reason: $reason, idempotencyKey: $key) { id status } }`;
const Q_COUNT = `query Count($f: EntityFilter) { entities(filter: $f, first: 0) { totalCount } }`;

const PAGE = 10;
const MAP_LIMIT = 2000; // visits read for the grid (20 requests at most)
// Seconds per entity in scope for a draw: 24 s for 1.08 M entities in the README's benchmark.
const DRAW_SECONDS_PER_ENTITY = 24 / 1_081_742;

// -- small DOM helpers ------------------------------------------------------------------------
function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  let value;
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') value = v; // after the options exist
    else if (k === 'checked' || k === 'disabled' || k === 'open') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  }
  if (value !== undefined) el.value = value;
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);
// Chinese and English punctuation differ: a colon, a list separator, an enumeration comma.
const COLON = () => t('punct.colon');
const SEP = () => t('punct.sep');
const LIST = () => t('punct.list');
/** replaceChildren that skips null and false (the DOM would print them). */
const fill = (el, ...kids) => el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
const main = $('#main');
const dialog = $('#visit-dialog');

/** A paragraph that shows an action's error next to its control (role=alert: read aloud). */
function errorLine(testid) {
  return h('p', { class: 'error', role: 'alert', 'data-testid': testid, hidden: true });
}
function showError(line, err) {
  line.textContent = err ? (typeof err === 'string' ? err : describeError(err)) : '';
  line.hidden = !err;
}

/** Run an action with its button busy and its error shown beside it. */
async function act(button, line, work, busyText = t('working')) {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = busyText;
  button.classList.add('busy');
  showError(line, null);
  try {
    return await work();
  } catch (err) {
    showError(line, err);
    return undefined;
  } finally {
    button.disabled = false;
    button.textContent = text;
    button.classList.remove('busy');
  }
}

const deptName = (code) => {
  const d = app.departments.find((x) => x.code === code);
  return d ? (lang === 'zh' ? d.name : d.nameEn) : code;
};
const gradePill = (g) => h('span', { class: `pill grade-${g}`, title: label('grade', g) }, g);
const stateBadge = (s) => h('span', { class: `badge state-${s}`, 'data-state': s }, t(`state.${s}`));
const statusBadge = (s, testid = null) => h('span', { class: `badge status-${s}`, 'data-testid': testid, 'data-status': s }, t(`status.${s}`));
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB') : '');
const pct = (x) => `${Math.round(x * 10000) / 100}%`;
const todayIso = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);

// -- the page's state -------------------------------------------------------------------------
const app = {
  departments: [], // inspecting and other departments, with their item lists' applicability
  tasks: [],
  task: null,
  drawPage: 0,
  followPage: 0,
  followState: null,
  renderedTask: null, // which task the sections show (a reload of another task starts over)
  added: null, // the last identity added, confirmed in the identity panel
  map: { key: null, visits: [] }, // the visits on the district grid, read once per task status
  lastDraw: null, // how long this page's draw took, shown beside its result
  quietClose: false, // the dialog's next close needs no reload (the page is rendered anew)
};

function reader() {
  return identities.reader();
}
function asReader(query, variables) {
  return gql(query, variables, reader()?.token);
}
function asPlanner(query, variables) {
  const planner = identities.planner();
  if (!planner) return Promise.reject(new Error(t('plannerNeeded')));
  return gql(query, variables, planner.token);
}

// -- identity ---------------------------------------------------------------------------------
function identityLabel(i) {
  const roles = i.roles.map((r) => t(`roles.${r}`)).join(LIST());
  return `${i.name || i.sub} · ${deptName(i.dept)} · ${roles}`;
}

function identityForm(onAdded) {
  const area = h('textarea', { rows: 3, placeholder: t('tokenPlaceholder'), 'data-testid': 'token-input', spellcheck: 'false' });
  const remember = h('input', { type: 'checkbox', 'data-testid': 'token-remember' });
  const err = errorLine('token-error');
  // Adding re-renders the page; the confirmation survives it through app.added.
  const ok = h('p', { class: 'ok', hidden: !app.added, 'data-testid': 'token-added' }, app.added || '');
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'token-add' }, t('addIdentity'));
  const form = h('form', { class: 'token-form', onsubmit: async (e) => {
    e.preventDefault();
    ok.hidden = true;
    app.added = null;
    const id = decodeToken(area.value);
    if (!id) {
      showError(err, t('tokenMalformed'));
      return;
    }
    // The hub is the judge of a token: ask it something before keeping the token.
    const data = await act(button, err, () => gql('{ departments { code } }', {}, id.token));
    if (!data) return;
    identities.add(id, remember.checked);
    app.added = t('tokenAdded', { who: identityLabel(id) });
    onAdded();
  } },
  h('label', {}, t('tokenLabel'), area),
  h('div', { class: 'row' }, h('label', { class: 'check' }, remember, t('remember')), button),
  err, ok);
  return form;
}

function renderIdentity() {
  const list = identities.all();
  const planner = identities.planner();
  const current = planner || identities.reader();
  $('#identity-summary').textContent = current ? `${t('identity')}${COLON()}${identityLabel(current)}` : t('noIdentity');
  if (list.length > 1) $('#identity-summary').append(h('span', { class: 'count' }, `+${list.length - 1}`));
  const panel = $('#identity-panel');
  fill(panel,
    h('p', { class: 'help' }, t('identityHelp')),
    h('h3', {}, t('identities')),
    list.length
      ? h('ul', { class: 'id-list', 'data-testid': 'identity-list' }, list.map((i) => h('li', { class: expired(i) ? 'expired' : '' },
        h('span', {}, identityLabel(i)),
        h('small', { class: 'muted' },
          expired(i) ? t('expired') : i.exp ? `${t('expires')} ${fmtTime(new Date(i.exp * 1000).toISOString())}` : '',
          ' · ', i.remember ? t('onDevice') : t('sessionOnly')),
        h('button', { type: 'button', class: 'link', onclick: () => { identities.remove(idKey(i)); route(); } }, t('remove')))))
      : h('p', { class: 'muted' }, t('noIdentity')),
    identityForm(() => route()),
    h('p', { class: 'muted small' }, t('moreTokens')),
  );
}

function renderSignIn() {
  $('#tasks').replaceChildren();
  fill(main, h('section', { class: 'card signin', 'data-testid': 'signin' },
    h('h2', {}, t('signInTitle')),
    h('p', {}, t('signInLead')),
    h('p', { class: 'help' }, t('identityHelp')),
    identityForm(() => route())));
}

// -- departments and the task list ----------------------------------------------------------
async function loadDepartments() {
  const data = await asReader(Q_DEPARTMENTS);
  app.departments = data.departments.map((d) => ({ ...d, items: (d.checklistItems || []).map((i) => ({ ...i, department: d.code })) }));
}
const inspecting = () => app.departments.filter((d) => d.items.length);
const itemsOf = (codes) => app.departments.filter((d) => codes.includes(d.code)).flatMap((d) => d.items);

async function renderTaskList(currentId) {
  const nav = $('#tasks');
  const list = h('ul', { class: 'task-list', 'data-testid': 'task-list' });
  fill(nav,
    h('div', { class: 'tasks-head' }, h('h2', {}, t('tasks')),
      h('a', { class: 'button primary small', href: '#new', 'data-testid': 'new-task' }, t('newTask'))),
    list);
  try {
    app.tasks = (await asReader(Q_TASKS)).jointInspectionTasks.nodes;
  } catch (err) {
    nav.append(h('p', { class: 'error' }, describeError(err)));
    return;
  }
  if (!app.tasks.length) list.append(h('li', { class: 'muted' }, t('noTasks')));
  for (const task of app.tasks) {
    list.append(h('li', { class: task.id === currentId ? 'current' : '' },
      h('a', { href: `#task=${task.id}` }, h('span', { class: 'task-title' }, task.title),
        h('span', { class: 'task-meta' }, statusBadge(task.status), ' ', fmtTime(task.createdAt)))));
  }
}

// -- ① compose --------------------------------------------------------------------------------
const DRAFT_KEY = 'jsh.plan.draft';

function defaultDraft() {
  const now = new Date();
  const start = new Date(now.getFullYear(), now.getMonth() + 1, 1);
  const end = new Date(now.getFullYear(), now.getMonth() + 2, 0);
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const quarter = Math.floor(start.getMonth() / 3) + 1;
  return {
    title: t('defaultTitle', { year: start.getFullYear(), q: quarter }),
    lead: 'market',
    participants: ['culture', 'fire'],
    scope: { district: [], kind: [], industry: [], creditGrade: [] },
    ratios: { A: '3', B: '10', C: '20', D: '100' },
    floor: '5',
    cap: '200',
    exclusionDays: '',
    multiplier: '2',
    always: false,
    teamSize: '2',
    windowStart: iso(start),
    windowEnd: iso(end),
  };
}

function loadDraft() {
  try {
    return { ...defaultDraft(), ...JSON.parse(sessionStorage.getItem(DRAFT_KEY) || '{}') };
  } catch {
    return defaultDraft();
  }
}

const intOrNull = (text) => (String(text).trim() === '' ? null : Number.parseInt(text, 10));

/** The sampling plan in exact fractions, for the estimate (compose form or a saved task). */
function planOfDraft(d) {
  return {
    ratios: Object.fromEntries(GRADES.map((g) => [g, fraction(d.ratios[g] || '0', 100) || { n: 0, d: 1 }])),
    floor: intOrNull(d.floor) || 0,
    cap: intOrNull(d.cap),
    exclusionDays: intOrNull(d.exclusionDays),
    multiplier: fraction(d.multiplier || '2') || { n: 2, d: 1 },
    alwaysIncludeAbnormal: Boolean(d.always),
  };
}
function planOfTask(task) {
  const p = task.plan;
  const ratios = Object.fromEntries(GRADES.map((g) => [g, { n: 0, d: 1 }]));
  for (const r of p.ratios) ratios[r.grade] = fraction(String(r.ratio)) || { n: 0, d: 1 };
  return {
    ratios, floor: p.floor, cap: p.cap, exclusionDays: p.exclusionDays,
    multiplier: fraction(String(p.abnormalMultiplier)) || { n: 2, d: 1 }, alwaysIncludeAbnormal: p.alwaysIncludeAbnormal,
  };
}

function scopeFilter(scope) {
  const f = {};
  for (const k of ['district', 'kind', 'industry']) if (scope[k]?.length) f[k] = scope[k];
  return f;
}

function inputOfDraft(d) {
  const scope = scopeFilter(d.scope);
  if (d.scope.creditGrade?.length) scope.creditGrade = d.scope.creditGrade;
  return {
    title: d.title,
    leadDepartment: d.lead,
    departments: d.participants.filter((c) => c !== d.lead),
    scope,
    plan: {
      ratios: GRADES.map((g) => ({ grade: g, ratio: ratioOfPercent(d.ratios[g] || '0') ?? -1 })),
      floor: intOrNull(d.floor) ?? 0,
      cap: intOrNull(d.cap),
      exclusionDays: intOrNull(d.exclusionDays),
      abnormalMultiplier: Number(d.multiplier || 2),
      alwaysIncludeAbnormal: Boolean(d.always),
    },
    teamSize: intOrNull(d.teamSize) ?? 2,
    windowStart: d.windowStart,
    windowEnd: d.windowEnd,
  };
}

function checkGroup(name, values, chosen, text, onChange) {
  // Read the boxes themselves on every change: the form is not re-rendered in between.
  const group = h('div', { class: 'checks', 'data-testid': `check-${name}` },
    values.map((v) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name, value: v, checked: chosen.includes(v),
        onchange: () => onChange(values.filter((x, i) => group.querySelectorAll('input')[i].checked)) }),
      text(v))));
  return group;
}

function field(text, control, hint) {
  return h('label', { class: 'field' }, h('span', {}, text), control, hint ? h('small', { class: 'muted' }, hint) : null);
}

function showCompose() {
  app.task = null;
  app.renderedTask = null;
  let draft = loadDraft();
  const planner = identities.planner();
  const censusBox = h('div', { class: 'census', 'data-testid': 'census' });
  const previewBox = h('section', { class: 'card', id: 'preview' });
  const saveErr = errorLine('save-error');

  const commit = (patch, { scopeChanged = false } = {}) => {
    draft = { ...draft, ...patch };
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    refreshCensus(scopeChanged);
  };
  const depts = () => [draft.lead, ...draft.participants.filter((c) => c !== draft.lead)];

  // The census needs the register only when the scope (or the need for inspections)
  // changes; a new ratio, floor or cap is recomputed from what was read.
  let timer = null;
  let samplesKey = null;
  const refreshCensus = (reread) => {
    clearTimeout(timer);
    const go = () => censusView(censusBox, {
      scope: scopeFilter(draft.scope), grades: draft.scope.creditGrade, departments: depts(), plan: planOfDraft(draft),
      onSamples: (samples) => {
        // Re-render the preview only when the samples change, so a shown form stays.
        const key = JSON.stringify([depts(), samples.map((e) => e.uscc)]);
        if (key !== samplesKey) {
          samplesKey = key;
          renderPreview(previewBox, depts(), samples, draft.teamSize);
        }
      },
    });
    if (reread) timer = setTimeout(go, 500); else go();
  };

  const ratioInputs = GRADES.map((g) => h('label', { class: 'ratio' }, gradePill(g),
    h('input', { type: 'number', min: 0, max: 100, step: 'any', value: draft.ratios[g], 'data-testid': `ratio-${g}`,
      oninput: (e) => commit({ ratios: { ...draft.ratios, [g]: e.target.value } }) }), '%'));
  const lead = h('select', { 'data-testid': 'lead', value: draft.lead, onchange: (e) => {
    commit({ lead: e.target.value, participants: draft.participants.filter((c) => c !== e.target.value) }, { scopeChanged: true });
    showCompose();
  } }, inspecting().map((d) => h('option', { value: d.code }, deptName(d.code))));

  const form = h('form', { class: 'compose', 'data-testid': 'compose-form', onsubmit: (e) => e.preventDefault() },
    field(t('taskTitle'), h('input', { type: 'text', value: draft.title, maxlength: 200, 'data-testid': 'title',
      oninput: (e) => commit({ title: e.target.value }) })),
    h('div', { class: 'grid2' },
      field(t('lead'), lead),
      h('fieldset', {}, h('legend', {}, t('participants')),
        checkGroup('participants', inspecting().map((d) => d.code).filter((c) => c !== draft.lead), draft.participants, deptName,
          (v) => commit({ participants: v }, { scopeChanged: true })))),
    h('fieldset', {}, h('legend', {}, t('scope'), h('small', { class: 'muted' }, ' ', t('scopeHint'))),
      h('div', { class: 'sub' }, h('span', {}, t('districts')),
        checkGroup('district', DISTRICTS.map(([c]) => c), draft.scope.district, districtName,
          (v) => commit({ scope: { ...draft.scope, district: v } }, { scopeChanged: true }))),
      h('div', { class: 'sub' }, h('span', {}, t('kinds')),
        checkGroup('kind', KINDS, draft.scope.kind, (k) => label('kind', k),
          (v) => commit({ scope: { ...draft.scope, kind: v } }, { scopeChanged: true }))),
      h('div', { class: 'sub' }, h('span', {}, t('industries')),
        checkGroup('industry', INDUSTRIES, draft.scope.industry, (k) => `${k} ${label('industry', k)}`,
          (v) => commit({ scope: { ...draft.scope, industry: v } }, { scopeChanged: true }))),
      h('div', { class: 'sub' }, h('span', {}, t('grades')),
        checkGroup('grade', GRADES, draft.scope.creditGrade, (g) => label('grade', g),
          (v) => commit({ scope: { ...draft.scope, creditGrade: v } })))),
    h('fieldset', {}, h('legend', {}, t('plan')),
      h('div', { class: 'ratios' }, h('span', {}, t('ratio')), ratioInputs),
      h('div', { class: 'grid4' },
        field(t('floor'), h('input', { type: 'number', min: 0, value: draft.floor, 'data-testid': 'floor',
          oninput: (e) => commit({ floor: e.target.value }) })),
        field(t('cap'), h('input', { type: 'number', min: 0, value: draft.cap, 'data-testid': 'cap',
          oninput: (e) => commit({ cap: e.target.value }) }), t('capHint')),
        field(t('exclusion'), h('input', { type: 'number', min: 0, value: draft.exclusionDays, 'data-testid': 'exclusion',
          oninput: (e) => commit({ exclusionDays: e.target.value }, { scopeChanged: Boolean(e.target.value) !== Boolean(draft.exclusionDays) }) }),
        t('exclusionHint')),
        field(t('multiplier'), h('input', { type: 'number', min: 1, step: 'any', value: draft.multiplier, 'data-testid': 'multiplier',
          oninput: (e) => commit({ multiplier: e.target.value }) }))),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: draft.always,
        onchange: (e) => commit({ always: e.target.checked }) }), t('alwaysAbnormal'))),
    h('fieldset', {}, h('legend', {}, t('team')),
      h('div', { class: 'grid4' },
        field(t('teamSize'), h('input', { type: 'number', min: 2, value: draft.teamSize, 'data-testid': 'team-size',
          oninput: (e) => { commit({ teamSize: e.target.value }); } })),
        field(`${t('window')} · ${t('windowStart')}`, h('input', { type: 'date', value: draft.windowStart, 'data-testid': 'window-start',
          oninput: (e) => commit({ windowStart: e.target.value }) })),
        field(`${t('window')} · ${t('windowEnd')}`, h('input', { type: 'date', value: draft.windowEnd, 'data-testid': 'window-end',
          oninput: (e) => commit({ windowEnd: e.target.value }) })))),
  );
  const save = h('button', { type: 'button', class: 'primary', 'data-testid': 'save', disabled: !planner, onclick: async () => {
    const input = inputOfDraft(draft);
    // Stored with the tab, so a save whose answer was lost is not made twice after a reload.
    const key = keyFor('create', input, sessionStorage);
    const data = await act(save, saveErr, () => asPlanner(M_CREATE, { input: { ...input, idempotencyKey: key } }), t('saving'));
    if (!data) return;
    sessionStorage.removeItem('jsh.plan.key.create');
    location.hash = `task=${data.createJointInspectionTask.id}`;
  } }, t('save'));

  fill(main,
    h('section', { class: 'card', id: 'compose', 'data-testid': 'step-compose' },
      h('h2', {}, t('step1')), h('p', { class: 'lead' }, t('step1Lead')),
      planner ? null : h('p', { class: 'error' }, t('plannerNeeded')),
      h('div', { class: 'compose-layout' }, form,
        h('aside', {}, h('h3', {}, t('census')), censusBox,
          h('div', { class: 'actions' }, save), saveErr))),
    previewBox,
  );
  renderPreview(previewBox, depts(), [], draft.teamSize);
  refreshCensus(false);
}

// -- the census panel (compose, and a draft task before its draw) ------------------------------
const census = { key: null, result: null, error: null, progress: [0, 0], running: null, view: null };

function censusView(box, params) {
  const withInspections = Boolean(params.plan.exclusionDays);
  const key = JSON.stringify([params.scope, withInspections]);
  // A reading outlives the form state it started with: painting always uses the latest.
  census.view = { box, ...params };
  if (census.key === key && (census.result || census.running)) {
    paintCensus();
    return;
  }
  Object.assign(census, { key, result: null, error: null, progress: [0, 0] });
  const who = identities.planner() || reader();
  // A newer scope makes this reading stop at its next request.
  const run = (query, variables) => {
    if (census.key !== key) throw new Error('superseded');
    return gql(query, variables, who.token);
  };
  census.running = readPopulation(run, params.scope, {
    withInspections,
    client: who.roles.includes('planner') ? 'planner' : 'officer',
    onProgress: (read, total) => {
      if (census.key === key) {
        census.progress = [read, total];
        paintCensus();
      }
    },
  }).then((result) => {
    if (census.key === key) census.result = result;
  }, (err) => {
    if (census.key === key && err.message !== 'superseded') census.error = err;
  }).finally(() => {
    if (census.key === key) {
      census.running = null;
      paintCensus();
    }
  });
  paintCensus();
}

function paintCensus() {
  const { box, departments, grades, plan, onSamples, onResult } = census.view;
  if (!box.isConnected) return;
  if (census.error) {
    fill(box, h('p', { class: 'error', role: 'alert', 'data-testid': 'census-error' }, describeError(census.error)));
    return;
  }
  if (!census.result) {
    const [read, total] = census.progress;
    fill(box, h('div', { class: 'progress', 'data-testid': 'census-progress' },
      h('progress', { max: total || 1, value: read }), h('span', {}, t('censusReading', { read, total: total || '…' }))));
    return;
  }
  const summary = summarize(census.result, { items: itemsOf(departments), departments, grades, plan });
  fill(box, censusTable(summary, plan, census.result));
  onSamples?.(summary.samples);
  onResult?.(summary, census.result);
}

function censusTable(summary, plan, result) {
  if (!result.total) return h('p', { class: 'muted', 'data-testid': 'census-empty' }, t('censusEmpty'));
  const approx = summary.exact ? '' : '≈';
  const ratioText = (g) => pct(plan.ratios[g].n / plan.ratios[g].d);
  return h('div', {},
    h('p', { class: 'big', 'data-testid': 'expected-visits', 'data-expected': summary.expected },
      t('expectedVisits', { n: `${approx}${summary.expected.toLocaleString()}` })),
    h('table', { class: 'table compact', 'data-testid': 'census-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('grade')), h('th', { class: 'num' }, t('population')),
        h('th', { class: 'num' }, t('listed')), h('th', { class: 'num' }, t('ratio')), h('th', { class: 'num' }, t('expected')))),
      h('tbody', {}, summary.perGrade.map((g) => h('tr', { 'data-grade': g.grade, 'data-population': g.population, 'data-expected': g.expected },
        h('td', {}, gradePill(g.grade), ' ', label('grade', g.grade).replace(/^[A-D] /, '')),
        h('td', { class: 'num' }, approx + g.population.toLocaleString()),
        h('td', { class: 'num' }, approx + g.listed.toLocaleString()),
        h('td', { class: 'num' }, ratioText(g.grade)),
        h('td', { class: 'num strong' }, approx + g.expected.toLocaleString())))),
      h('tfoot', {}, h('tr', {}, h('th', {}, t('total')),
        h('th', { class: 'num' }, approx + summary.perGrade.reduce((s, g) => s + g.population, 0).toLocaleString()),
        h('th', {}), h('th', {}), h('th', { class: 'num' }, approx + summary.expected.toLocaleString())))),
    h('p', { class: 'muted small' }, `${t('excludedTitle')}${COLON()}`, Object.entries(summary.excluded)
      .filter(([k]) => k !== 'RECENTLY_INSPECTED' || plan.exclusionDays)
      .map(([k, n]) => `${t(`excl.${k}`)} ${approx}${n.toLocaleString()}`).join(SEP())),
    h('p', { class: `small ${summary.exact ? 'ok' : 'muted'}`, 'data-testid': 'census-quality', 'data-exact': String(summary.exact) },
      summary.exact ? t('censusExact', { total: result.total.toLocaleString() })
        : t('censusEstimate', { read: result.read.toLocaleString(), total: result.total.toLocaleString() })),
    plan.exclusionDays ? h('p', { class: 'muted small' }, t('censusRecentNote')) : null);
}

// -- ② preview the merged form -----------------------------------------------------------------
function renderPreview(box, departments, samples, teamSize) {
  const pick = h('select', { 'data-testid': 'sample-entity' },
    samples.map((e) => h('option', { value: e.uscc },
      `${e.name} · ${label('kind', e.kind)} · ${e.industry ? label('industry', e.industry) : ''}`)));
  const typed = h('input', { type: 'text', placeholder: t('orUscc'), maxlength: 18, 'data-testid': 'preview-uscc', class: 'mono' });
  const err = errorLine('preview-error');
  const out = h('div', { 'data-testid': 'preview-result' });
  const button = h('button', { type: 'button', 'data-testid': 'preview-button', onclick: async () => {
    const uscc = typed.value.trim() || pick.value;
    if (!uscc) return;
    const data = await act(button, err, () => asReader(Q_PREVIEW, { d: departments, u: uscc }), t('previewing'));
    if (data) fill(out, previewResult(data.checklistPreview, Number.parseInt(teamSize, 10) || 2));
  } }, t('preview'));
  fill(box,
    h('h2', {}, t('step2')), h('p', { class: 'lead' }, t('step2Lead')),
    h('div', { class: 'row wrap' }, field(t('sampleEntity'), pick), field(t('orUscc'), typed), button),
    err, out);
}

function formTable(form, testid) {
  return h('table', { class: 'table form-table', 'data-testid': testid },
    h('thead', {}, h('tr', {}, h('th', {}, t('entry')), h('th', {}, t('requiredBy')))),
    h('tbody', {}, form.entries.map((e) => h('tr', { 'data-key': e.key, 'data-departments': e.requirements.length },
      h('td', {}, h('div', { class: 'strong' }, e.name), h('small', { class: 'mono muted' }, e.key), ' ',
        h('span', { class: `tag ${e.delegable ? 'tag-soft' : 'tag-hard'}` }, e.delegable ? t('delegable') : t('notDelegable'))),
      h('td', {}, h('ul', { class: 'reqs' }, e.requirements.map((r) => h('li', {},
        h('span', { class: 'dept' }, deptName(r.department.code)), ' ',
        h('span', { class: 'mono small' }, r.itemCode), ' ',
        h('span', { class: 'basis' }, r.legalBasis)))))))));
}

function previewResult(p, teamSize) {
  const form = p.form;
  const mustSend = new Set(form.entries.flatMap((e) => e.requirements.filter((r) => !r.delegable).map((r) => r.department.code)));
  // Alone, each department sends a team of two; jointly, one team of at least teamSize
  // with one inspector of every department whose items cannot be delegated.
  const sepDispatch = p.separateVisits * 2;
  const jointDispatch = p.jointVisits ? Math.max(teamSize, mustSend.size) : 0;
  return h('div', {},
    h('p', { class: 'strong' }, `${p.entity.name} · `, h('span', { class: 'mono' }, p.entity.uscc)),
    h('div', { class: 'stats' },
      h('div', { class: 'stat', 'data-testid': 'raw-count' }, h('b', {}, form.rawCount), h('span', {}, t('rawCount'))),
      h('div', { class: 'stat arrow' }, '→'),
      h('div', { class: 'stat', 'data-testid': 'merged-count' }, h('b', {}, form.mergedCount), h('span', {}, t('mergedCount'))),
      h('div', { class: 'stat wide', 'data-testid': 'preview-savings' },
        h('span', {}, t('visitsSaved', { sep: p.separateVisits, joint: p.jointVisits })),
        h('span', {}, t('dispatchSaved', { sep: sepDispatch, joint: jointDispatch })))),
    formTable(form, 'preview-form'));
}

// -- a task -----------------------------------------------------------------------------------
async function showTask(id) {
  if (app.renderedTask !== id) {
    Object.assign(app, { drawPage: 0, followPage: 0, followState: null });
    fill(main, h('p', { class: 'muted' }, t('loading')));
  }
  let task;
  try {
    task = (await asReader(Q_TASK, { id })).jointInspectionTask;
  } catch (err) {
    fill(main, h('p', { class: 'error', role: 'alert' }, describeError(err)));
    return;
  }
  if (!task) {
    fill(main, h('p', { class: 'error' }, t('notFound')));
    return;
  }
  app.task = task;
  app.renderedTask = id;
  const sections = {
    head: h('section', { class: 'card task-head', 'data-testid': 'task-head' }),
    draw: h('section', { class: 'card', id: 'draw', 'data-testid': 'step-draw' }),
    follow: h('section', { class: 'card', id: 'follow', 'data-testid': 'step-follow' }),
    look: h('section', { class: 'card', id: 'look', 'data-testid': 'step-look' }),
    audit: h('section', { class: 'card', id: 'audit' }),
  };
  // Rendering the same task again (after an action) keeps the page's height until the
  // sections' own reads are back, so the reader's scroll position does not jump.
  main.style.minHeight = `${main.offsetHeight}px`;
  fill(main, ...Object.values(sections));
  renderHead(sections.head, task);
  await Promise.all([
    renderDraw(sections.draw, task),
    renderFollow(sections.follow, task),
    renderLook(sections.look, task),
    renderAudit(sections.audit, task),
  ]).finally(() => { main.style.minHeight = ''; });
}

const reloadTask = () => Promise.all([showTask(app.task.id), renderTaskList(app.task.id)]);

function renderHead(box, task) {
  const s = task.scope || {};
  const list = (xs, f) => (xs?.length ? xs.map(f).join(LIST()) : t('scopeAll'));
  const p = task.plan;
  const ratios = p.ratios.map((r) => `${r.grade} ${pct(r.ratio)}`).join(' · ');
  fill(box,
    h('div', { class: 'row between' }, h('h2', { 'data-testid': 'task-title' }, task.title), statusBadge(task.status, 'task-status')),
    h('dl', { class: 'kv' },
      h('dt', {}, t('taskId')), h('dd', { class: 'mono', 'data-testid': 'task-id' }, task.id),
      h('dt', {}, t('departments')), h('dd', {}, h('strong', {}, deptName(task.leadDepartment.code)), ` (${t('lead')}) + `,
        task.departments.filter((d) => d.code !== task.leadDepartment.code).map((d) => deptName(d.code)).join(LIST())),
      h('dt', {}, t('scope')), h('dd', {},
        [[t('districts'), list(s.districts, districtName)], [t('kinds'), list(s.kinds, (k) => label('kind', k))],
          [t('industries'), list(s.industries, (k) => label('industry', k))], [t('grades'), list(s.grades, (g) => g)]]
          .map(([k, v]) => `${k}${COLON()}${v}`).join(SEP())),
      h('dt', {}, t('plan')), h('dd', {}, t('planSummary', {
        ratios, floor: p.floor, cap: p.cap ?? t('noCap'),
        days: p.exclusionDays === null ? t('noExclusion') : t('days', { n: p.exclusionDays }),
      })),
      h('dt', {}, t('team')), h('dd', {}, `${t('teamSize')} ${task.teamSize}${SEP()}${t('window')} ${task.windowStart} – ${task.windowEnd}`),
      h('dt', {}, t('createdBy')), h('dd', {}, `${task.createdBy} · ${fmtTime(task.createdAt)}`)));
}

// -- ③ draw -----------------------------------------------------------------------------------
async function sha256Hex(hex) {
  if (!globalThis.crypto?.subtle) return null; // only in secure contexts (https, localhost)
  const bytes = new Uint8Array(hex.match(/../g).map((b) => Number.parseInt(b, 16)));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function renderDraw(box, task) {
  const verify = h('span', { class: 'muted', 'data-testid': 'seed-check' });
  if (task.seed) {
    sha256Hex(task.seed).then((digest) => {
      if (digest === null) verify.textContent = t('seedNoCrypto');
      else {
        verify.textContent = digest === task.seedCommitment ? t('seedVerified') : t('seedMismatch');
        verify.className = digest === task.seedCommitment ? 'ok' : 'error';
      }
    });
  }
  fill(box,
    h('h2', {}, t('step3')), h('p', { class: 'lead' }, t('step3Lead')),
    h('dl', { class: 'kv' },
      h('dt', {}, t('commitment')), h('dd', { class: 'mono break', 'data-testid': 'seed-commitment' }, task.seedCommitment),
      h('dt', {}, t('seed')), h('dd', { class: 'mono break', 'data-testid': 'seed' },
        task.seed ? [task.seed, h('br'), verify] : h('span', { class: 'muted' }, t('seedHidden')))));
  if (task.status === 'DRAFT') return drawControls(box, task);
  return drawnSummary(box, task);
}

function drawControls(box, task) {
  const censusBox = h('div', { class: 'census', 'data-testid': 'census' });
  const err = errorLine('draw-error');
  const progress = h('div', { class: 'progress', hidden: true, 'data-testid': 'draw-progress' },
    h('progress', { max: 100, value: 0 }), h('span'));
  let inScope = null;
  const s = task.scope || {};
  const scope = scopeFilter({ district: s.districts, kind: s.kinds, industry: s.industries });
  if (s.statuses?.length) scope.status = s.statuses;
  if (s.nameContains) scope.nameContains = s.nameContains;
  const departments = task.departments.map((d) => d.code);
  const button = h('button', { type: 'button', class: 'primary', 'data-testid': 'draw-button', disabled: !identities.planner(), onclick: async () => {
    if (inScope === null) {
      inScope = (await asReader(Q_COUNT, { f: scope }).catch(() => null))?.entities.totalCount ?? 0;
    }
    // The draw is one request: the bar shows the time spent against the time a draw over
    // this many entities takes (the README's benchmark), never claiming to be done early.
    const eta = Math.max(1, Math.round(0.5 + inScope * DRAW_SECONDS_PER_ENTITY));
    const started = performance.now();
    progress.hidden = false;
    const tick = () => {
      const elapsed = (performance.now() - started) / 1000;
      progress.firstChild.value = Math.min(95, (elapsed / eta) * 100);
      progress.lastChild.textContent = t('drawProgress', { elapsed: elapsed.toFixed(1), eta });
    };
    tick();
    const timer = setInterval(tick, 200);
    const data = await act(button, err, () => asPlanner(M_DRAW, { id: task.id, key: `draw-${task.id}` }), t('drawing'));
    clearInterval(timer);
    if (!data) {
      progress.hidden = true;
      return;
    }
    app.lastDraw = { id: task.id, seconds: ((performance.now() - started) / 1000).toFixed(1) };
    await reloadTask();
  } }, t('draw'));
  box.append(h('h3', {}, t('census')), censusBox, h('div', { class: 'actions' }, button), progress, err,
    identities.planner() ? null : h('p', { class: 'error' }, t('plannerNeeded')));
  censusView(censusBox, {
    scope, grades: s.grades, departments, plan: planOfTask(task),
    onResult: (_, result) => { inScope = result.total; },
  });
}

function populationTable(task) {
  const ratio = Object.fromEntries(task.plan.ratios.map((r) => [r.grade, r.ratio]));
  return h('table', { class: 'table compact', 'data-testid': 'population-table' },
    h('thead', {}, h('tr', {}, h('th', {}, t('grade')), h('th', { class: 'num' }, t('population')),
      h('th', { class: 'num' }, t('drawn')), h('th', { class: 'num' }, t('ratio')))),
    h('tbody', {}, task.population.map((g) => h('tr', { 'data-grade': g.grade, 'data-population': g.population, 'data-drawn': g.drawn },
      h('td', {}, gradePill(g.grade), ' ', label('grade', g.grade).replace(/^[A-D] /, '')),
      h('td', { class: 'num' }, g.population.toLocaleString()),
      h('td', { class: 'num strong' }, g.drawn.toLocaleString()),
      h('td', { class: 'num' }, `${g.population ? pct(g.drawn / g.population) : '–'} / ${pct(ratio[g.grade] ?? 0)}`)))),
    h('tfoot', {}, h('tr', {}, h('th', {}, t('total')),
      h('th', { class: 'num' }, task.population.reduce((s, g) => s + g.population, 0).toLocaleString()),
      h('th', { class: 'num', 'data-testid': 'drawn-total' }, task.population.reduce((s, g) => s + g.drawn, 0).toLocaleString()),
      h('th'))));
}

function drawnSummary(box, task) {
  const sv = task.savings;
  box.append(
    h('div', { class: 'grid2' },
      h('div', {}, h('h3', {}, t('population')), populationTable(task),
        h('p', { class: 'muted small' }, `${t('excludedTitle')}${COLON()}`,
          (task.excluded || []).map((e) => `${t(`excl.${e.reason}`)} ${e.count.toLocaleString()}`).join(SEP()))),
      h('div', {}, h('h3', {}, t('savings')),
        sv ? h('p', { 'data-testid': 'savings' }, t('savingsLine', {
          visits: sv.visits, sepVisits: sv.separateVisits, avoided: sv.separateVisitsAvoided,
          disp: sv.dispatches, sepDisp: sv.separateDispatches, dispAvoided: sv.dispatchesAvoided,
        })) : null,
        task.drawnAt ? h('p', { class: 'muted small' }, fmtTime(task.drawnAt)) : null,
        app.lastDraw?.id === task.id ? h('p', { class: 'ok small', 'data-testid': 'draw-done' },
          t('drawDone', { s: app.lastDraw.seconds })) : null)),
    h('h3', {}, t('drawnEntities')));
  const holder = h('div', { 'data-testid': 'drawn-visits' });
  box.append(holder);
  return loadDrawnPage(holder, task);
}

const totalVisits = (task) => (task.population || []).reduce((s, g) => s + g.drawn, 0);

function pager(offset, total, onMove) {
  return h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'ghost small', disabled: offset === 0, onclick: () => onMove(Math.max(0, offset - PAGE)) }, t('prev')),
    h('span', { class: 'muted' }, t('pageOf', { from: total ? offset + 1 : 0, to: Math.min(total, offset + PAGE), n: total })),
    h('button', { type: 'button', class: 'ghost small', disabled: offset + PAGE >= total, onclick: () => onMove(offset + PAGE) }, t('next')));
}

async function loadDrawnPage(holder, task) {
  const offset = app.drawPage;
  let visits;
  try {
    visits = (await asReader(Q_VISITS, { id: task.id, first: PAGE, offset, state: null })).jointInspectionTask.visits;
  } catch (err) {
    fill(holder, h('p', { class: 'error', role: 'alert' }, describeError(err)));
    return;
  }
  const canSubstitute = task.status === 'DRAWN' && identities.planner();
  fill(holder,
    h('table', { class: 'table', 'data-testid': 'drawn-table' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, t('entity')), h('th', {}, t('grade')),
        h('th', {}, t('district')), h('th', {}, t('rank')), h('th', {}, t('teamCol')))),
      h('tbody', {}, visits.map((v, i) => h('tr', { 'data-visit': v.id, 'data-uscc': v.uscc },
        h('td', { class: 'num muted' }, offset + i + 1),
        h('td', {}, h('a', { href: '#', onclick: (e) => { e.preventDefault(); openVisit(v.id); } }, v.entityName || v.uscc),
          h('br'), h('small', { class: 'mono muted' }, v.uscc)),
        h('td', {}, gradePill(v.grade)),
        h('td', {}, districtName(v.district)),
        h('td', { class: 'mono small', title: v.rank }, `${v.rank.slice(0, 10)}…`),
        h('td', {}, teamCell(v, canSubstitute && v.state === 'NOT_ENTERED', () => loadDrawnPage(holder, task))))))),
    pager(offset, totalVisits(task), (o) => { app.drawPage = o; loadDrawnPage(holder, task); }));
}

function teamCell(v, canSubstitute, reload) {
  const cell = h('div', { class: 'team' });
  const replaced = v.teamHistory.filter((m) => m.replacedAt);
  const paint = () => fill(cell,
    h('ul', { class: 'members' }, v.team.map((m) => h('li', { 'data-inspector': m.inspectorId, 'data-dept': m.department.code },
      h('span', { class: `role role-${m.role}` }, m.role === 'leader' ? t('leader') : t('member')), ' ',
      h('span', { class: 'mono' }, m.inspectorId), ' ',
      h('span', { class: 'dept' }, deptName(m.department.code)),
      m.widerPool ? h('span', { class: 'tag tag-soft', title: t('widerPool') }, t('widerPool')) : null,
      canSubstitute ? h('button', { type: 'button', class: 'link small', 'data-testid': 'substitute',
        onclick: () => substituteForm(m) }, t('substitute')) : null))),
    replaced.map((m) => h('small', { class: 'muted replaced', 'data-testid': 'replaced' },
      t('replacedHistory', { who: m.inspectorId, reason: m.reason || '' }))));
  const substituteForm = (m) => {
    const reason = h('input', { type: 'text', placeholder: t('substituteReason'), 'data-testid': 'substitute-reason' });
    const err = errorLine('substitute-error');
    const confirm = h('button', { type: 'submit', class: 'primary small', 'data-testid': 'substitute-confirm' }, t('substituteConfirm'));
    fill(cell, h('form', { class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      const input = { v: v.id, i: m.inspectorId, r: reason.value };
      const done = await act(confirm, err, () => asPlanner(M_SUBSTITUTE, { ...input, key: keyFor(`sub-${v.id}-${m.inspectorId}`, input) }));
      if (done) reload();
    } },
    h('span', {}, `${t('substitute')} ${m.inspectorId}（${deptName(m.department.code)}）`),
    reason, confirm, h('button', { type: 'button', class: 'ghost small', onclick: paint }, t('cancel')), err));
    reason.focus();
  };
  paint();
  return cell;
}

// -- ④ follow and publish -----------------------------------------------------------------------
const FOLLOW_STATES = ['NOT_ENTERED', 'PENDING_REVIEW', 'RETURNED', 'APPROVED', 'PUBLISHED', 'CLOSED_UNFINISHED'];

function renderFollow(box, task) {
  fill(box, h('h2', {}, t('step4')), h('p', { class: 'lead' }, t('step4Lead')));
  if (task.status === 'DRAFT') return;
  const counts = Object.fromEntries(task.visitCounts.map((c) => [c.state, c.count]));
  const total = totalVisits(task);
  const show = (state) => () => {
    app.followState = state;
    app.followPage = 0;
    renderFollow(box, task);
  };
  const chips = h('div', { class: 'chips', 'data-testid': 'state-counts' },
    h('button', { type: 'button', class: `chip${app.followState ? '' : ' on'}`, onclick: show(null) },
      t('filterAll'), h('b', {}, total)),
    FOLLOW_STATES.filter((s) => counts[s] || ['NOT_ENTERED', 'PENDING_REVIEW', 'RETURNED', 'APPROVED'].includes(s)).map((s) =>
      h('button', { type: 'button', class: `chip state-${s}${app.followState === s ? ' on' : ''}`, 'data-state': s, 'data-count': counts[s] || 0,
        onclick: show(s) },
      t(`state.${s}`), h('b', {}, counts[s] || 0))));
  const holder = h('div', { 'data-testid': 'follow-visits' });
  box.append(chips, holder);
  if (task.status === 'DRAWN') box.append(publishControls(task, counts));
  if (task.status === 'PUBLISHED' && task.closeReason) box.append(h('p', { class: 'muted' }, t('closeReasonShown', { reason: task.closeReason })));
  return loadFollowPage(holder, task, app.followState ? counts[app.followState] || 0 : total);
}

const lateTag = (late) => h('span', { class: `tag ${late ? 'tag-late' : 'tag-ok'}`, 'data-late': String(late) },
  late ? t('late') : t('onTime'));
// A deadline counted through a year whose official calendar is not out yet (Monday–Friday there).
const provisionalTag = (p) => (p.provisional
  ? h('span', { class: 'tag tag-warn', 'data-testid': 'provisional', title: t('provisionalHelp') }, t('provisional'))
  : null);

async function loadFollowPage(holder, task, total) {
  const offset = app.followPage;
  let visits;
  try {
    visits = (await asReader(Q_VISITS, { id: task.id, first: PAGE, offset, state: app.followState ? [app.followState] : null }))
      .jointInspectionTask.visits;
  } catch (err) {
    fill(holder, h('p', { class: 'error', role: 'alert' }, describeError(err)));
    return;
  }
  const published = visits.filter((v) => v.publication);
  fill(holder,
    h('table', { class: 'table', 'data-testid': 'follow-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('entity')), h('th', {}, t('grade')), h('th', {}, t('stateCol')),
        h('th', {}, t('result')), h('th', {}, t('publishedOn')), h('th', {}, t('deadline')), h('th', {}, t('actions')))),
      h('tbody', {}, visits.map((v) => {
        const action = v.state === 'PENDING_REVIEW' ? 'review'
          : ['NOT_ENTERED', 'RETURNED'].includes(v.state) && task.status === 'DRAWN' ? 'enterResult' : 'open';
        return h('tr', { 'data-visit': v.id, 'data-uscc': v.uscc, 'data-state': v.state, class: v.publication?.late ? 'late' : '' },
          h('td', {}, v.entityName || v.uscc, h('br'), h('small', { class: 'mono muted' }, v.uscc)),
          h('td', {}, gradePill(v.grade)),
          h('td', {}, stateBadge(v.state)),
          h('td', {}, v.result ? [label('category', v.result.category), h('br'), h('small', { class: 'muted' }, v.result.concludedOn)] : '–'),
          h('td', {}, v.publication?.publishedOn ?? '–'),
          h('td', { 'data-testid': v.publication ? 'deadline' : null },
            v.publication ? [v.publication.deadline, ' ', lateTag(v.publication.late), ' ', provisionalTag(v.publication)] : '–'),
          h('td', {}, h('button', { type: 'button', class: action === 'open' ? 'ghost small' : 'small', 'data-testid': `visit-${action}`,
            onclick: () => openVisit(v.id) }, t(action))));
      }))),
    pager(offset, total, (o) => { app.followPage = o; loadFollowPage(holder, task, total); }),
    published.length ? h('p', { class: 'muted small', 'data-testid': 'published-summary' },
      t('publishedCount', { n: published.length, late: published.filter((v) => v.publication.late).length })) : null);
}

function publishControls(task, counts) {
  const unfinished = totalVisits(task) - (counts.APPROVED || 0);
  const close = h('input', { type: 'checkbox', 'data-testid': 'close-unfinished' });
  const reason = h('input', { type: 'text', placeholder: t('closeReason'), 'data-testid': 'close-reason' });
  const err = errorLine('publish-error');
  const button = h('button', { type: 'button', class: 'primary', 'data-testid': 'publish-button', disabled: !identities.planner(),
    onclick: async () => {
      const input = { id: task.id, close: close.checked, reason: reason.value || null };
      const done = await act(button, err, () => asPlanner(M_PUBLISH, { ...input, key: keyFor(`pub-${task.id}`, input) }), t('publishing'));
      if (done) await reloadTask();
    } }, t('publish'));
  return h('div', { class: 'publish' },
    h('label', { class: 'check' }, close, t('closeUnfinished'), unfinished ? ` (${unfinished})` : ''),
    reason, button, err);
}

// -- the visit dialog: form, team, result entry and review ------------------------------------
async function openVisit(id) {
  fill(dialog, h('p', { class: 'muted' }, t('loading')));
  if (!dialog.open) dialog.showModal();
  let v;
  try {
    v = (await asReader(Q_VISIT, { id })).jointVisit;
  } catch (err) {
    fill(dialog, h('p', { class: 'error', role: 'alert' }, describeError(err)), closeButton());
    return;
  }
  const task = app.task;
  const teamDepts = [...new Set(v.team.map((m) => m.department.code))];
  const entering = task?.status === 'DRAWN' && ['NOT_ENTERED', 'RETURNED'].includes(v.state);
  const parts = [
    h('div', { class: 'row between' },
      h('h2', {}, v.entityName || v.uscc, ' ', gradePill(v.grade), ' ', stateBadge(v.state)), closeButton()),
    h('p', { class: 'muted' }, h('span', { class: 'mono' }, v.uscc), ` · ${districtName(v.district)} · ${t('rank')} `,
      h('span', { class: 'mono small' }, `${v.rank.slice(0, 16)}…`)),
    h('p', { class: 'small' }, h('strong', {}, `${t('teamCol')}${COLON()}`), v.team.map((m, i) => [i ? SEP() : '',
      h('span', { class: `role role-${m.role}` }, m.role === 'leader' ? t('leader') : t('member')), ' ',
      h('span', { class: 'mono' }, m.inspectorId), ' ', deptName(m.department.code)])),
  ];
  const replaced = v.teamHistory.filter((m) => m.replacedAt);
  if (replaced.length) {
    parts.push(h('p', { class: 'muted small' }, `${t('history')}${COLON()}`,
      replaced.map((m) => t('replacedHistory', { who: m.inspectorId, reason: m.reason })).join(SEP())));
  }
  // What the visit waits for comes first: entering its result, or reviewing it.
  if (entering) parts.push(resultForm(v, teamDepts));
  if (v.state === 'PENDING_REVIEW') parts.push(reviewForm(v, task));
  parts.push(h('h3', {}, t('form'), ' ',
    h('small', { class: 'muted' }, `${t('rawCount')} ${v.form.rawCount} → ${t('mergedCount')} ${v.form.mergedCount}`)));
  parts.push(v.result ? resultView(v) : formTable(v.form, 'visit-form'));
  fill(dialog, ...parts);
}

function closeButton() {
  return h('button', { type: 'button', class: 'ghost', 'data-testid': 'dialog-close', onclick: () => dialog.close() }, t('close'));
}

// However the dialog closes (button, Escape), the task behind it shows what changed.
dialog.addEventListener('close', () => {
  if (app.quietClose) app.quietClose = false;
  else if (app.task) reloadTask();
});

/** Close the dialog without reloading the task: the caller renders the page anyway. */
function closeQuietly() {
  if (!dialog.open) return;
  app.quietClose = true; // the close event comes later, as a task of its own
  dialog.close();
}

function resultView(v) {
  const r = v.result;
  const byKey = Object.fromEntries(r.entries.map((e) => [e.key, e]));
  return h('div', { 'data-testid': 'visit-result' },
    h('p', {}, h('strong', {}, label('category', r.category)), ` · ${t('concludedOn')} ${r.concludedOn}`,
      r.outsideWindow ? [' ', h('span', { class: 'tag tag-warn', 'data-testid': 'outside-window' }, t('outsideWindow'))] : null),
    v.publication ? h('p', { class: 'small' }, `${t('deadline')}${COLON()}${v.publication.deadline} `,
      lateTag(v.publication.late), ' ', provisionalTag(v.publication)) : null,
    h('p', { class: 'muted small' }, t('enteredBy', { who: r.enteredBy, v: r.version }),
      r.reviewedBy ? ` · ${t('reviewedBy', { who: r.reviewedBy })}` : '', r.reviewComment ? ` · ${t('reviewComment')}${COLON()}${r.reviewComment}` : ''),
    h('table', { class: 'table form-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('entry')), h('th', {}, t('outcome')), h('th', {}, t('requiredBy')))),
      h('tbody', {}, v.form.entries.map((e) => h('tr', { class: byKey[e.key]?.outcome === 'NON_COMPLIANT' ? 'bad' : '' },
        h('td', {}, e.name, byKey[e.key]?.note ? [h('br'), h('small', { class: 'muted' }, byKey[e.key].note)] : null),
        h('td', {}, label('outcome', byKey[e.key]?.outcome ?? '–')),
        h('td', {}, e.requirements.map((q) => `${deptName(q.department.code)} ${q.itemCode}`).join(SEP())))))));
}

function resultForm(v, teamDepts) {
  const officers = identities.officersFor(teamDepts);
  const box = h('div', { class: 'entry-form', 'data-testid': 'result-form' }, h('h3', {}, t('enterResult')));
  if (!officers.length) {
    box.append(h('p', { class: 'notice', 'data-testid': 'need-officer' },
      t('needOfficer', { depts: teamDepts.map(deptName).join(LIST()), dept: teamDepts[0] })));
    if (identities.planner()) box.append(h('p', { class: 'muted small' }, t('plannerCannotEnter')));
    return box;
  }
  const previous = Object.fromEntries((v.result?.entries || []).map((e) => [e.key, e]));
  const who = h('select', { 'data-testid': 'result-identity' }, officers.map((o) => h('option', { value: idKey(o) }, identityLabel(o))));
  const category = h('select', { 'data-testid': 'result-category', value: v.result?.category || 'NO_PROBLEM' },
    CATEGORIES.map((c) => h('option', { value: c }, label('category', c))));
  const concluded = h('input', { type: 'date', max: todayIso(), value: v.result?.concludedOn || todayIso(), 'data-testid': 'result-concluded' });
  const rows = v.form.entries.map((e) => ({
    key: e.key,
    outcome: h('select', { 'data-testid': 'result-outcome', 'data-key': e.key, value: previous[e.key]?.outcome || 'COMPLIANT' },
      OUTCOMES.map((o) => h('option', { value: o }, label('outcome', o)))),
    note: h('input', { type: 'text', value: previous[e.key]?.note || '', 'data-testid': 'result-note', 'data-key': e.key }),
    entry: e,
  }));
  const err = errorLine('result-error');
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'result-submit' }, t('submitResult'));
  // A fresh key per opening of the form: entering the same result again after it was
  // returned is a new version, not a retry.
  const nonce = Math.random().toString(36).slice(2);
  box.append(h('form', { onsubmit: async (e) => {
    e.preventDefault();
    const officer = officers.find((o) => idKey(o) === who.value);
    const input = {
      visitId: v.id, category: category.value, concludedOn: concluded.value,
      entries: rows.map((r) => ({ key: r.key, outcome: r.outcome.value, note: r.note.value })),
    };
    const done = await act(submit, err, () => gql(M_RECORD, { input: { ...input, idempotencyKey: keyFor(`rec-${v.id}-${nonce}`, input) } }, officer.token));
    if (done) openVisit(v.id);
  } },
  h('div', { class: 'grid3' }, field(t('enteringAs'), who), field(t('category'), category), field(t('concludedOn'), concluded)),
  h('table', { class: 'table form-table' },
    h('thead', {}, h('tr', {}, h('th', {}, t('entry')), h('th', {}, t('outcome')), h('th', {}, t('note')))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      h('td', {}, r.entry.name, h('br'), h('small', { class: 'muted' }, r.entry.requirements.map((q) => deptName(q.department.code)).join(LIST()))),
      h('td', {}, r.outcome), h('td', {}, r.note))))),
  h('div', { class: 'actions' }, submit), err));
  return box;
}

function reviewForm(v, task) {
  const box = h('div', { class: 'entry-form', 'data-testid': 'review-form' }, h('h3', {}, t('review')));
  const depts = [...new Set([v.result.enteredDepartment, task?.leadDepartment?.code].filter(Boolean))];
  const reviewers = identities.reviewersFor(depts, v.result.enteredSubject);
  if (!reviewers.length) {
    box.append(h('p', { class: 'notice', 'data-testid': 'need-reviewer' },
      t('needReviewer', { depts: depts.map(deptName).join(LIST()), dept: depts[0], who: v.result.enteredSubject })));
    return box;
  }
  const who = h('select', { 'data-testid': 'review-identity' }, reviewers.map((o) => h('option', { value: idKey(o) }, identityLabel(o))));
  const comment = h('textarea', { rows: 2, placeholder: t('reviewComment'), 'data-testid': 'review-comment' });
  const err = errorLine('review-error');
  const send = (approve, button) => async () => {
    const reviewer = reviewers.find((o) => idKey(o) === who.value);
    const input = { v: v.id, ok: approve, c: comment.value };
    const done = await act(button, err, () => gql(M_REVIEW, { ...input, key: keyFor(`rev-${v.id}-${v.result.version}`, input) }, reviewer.token));
    if (done) openVisit(v.id);
  };
  const approve = h('button', { type: 'button', class: 'primary', 'data-testid': 'review-approve' }, t('approve'));
  const giveBack = h('button', { type: 'button', class: 'ghost', 'data-testid': 'review-return' }, t('returnIt'));
  approve.addEventListener('click', send(true, approve));
  giveBack.addEventListener('click', send(false, giveBack));
  box.append(field(t('reviewingAs'), who), comment, h('div', { class: 'actions' }, approve, giveBack), err);
  return box;
}

// -- ⑤ look -----------------------------------------------------------------------------------
async function renderLook(box, task) {
  fill(box, h('h2', {}, t('step5')), h('p', { class: 'lead' }, t('step5Lead')));
  if (!task.population) return;
  const ratio = Object.fromEntries(task.plan.ratios.map((r) => [r.grade, r.ratio]));
  const rows = task.population.map((g) => ({ ...g, ratio: ratio[g.grade] ?? 0 }));
  const total = totalVisits(task);
  const gridBox = h('div', { 'data-testid': 'grid-box' });
  box.append(h('div', { class: 'look' },
    h('div', { class: 'look-grid' }, h('h3', {}, t('grid')), gridBox,
      h('div', { class: 'legend' }, GRADES.map((g) => h('span', {}, h('i', { class: `dot grade-${g}` }), label('grade', g))))),
    h('div', { class: 'look-charts' }, h('h3', {}, t('chart')), populationChart(rows), h('h3', {}, t('rateChart')), rateChart(rows),
      h('p', { class: 'muted small' }, t('rateNote')))));
  const want = Math.min(total, MAP_LIMIT);
  const bar = h('div', { class: 'progress' }, h('progress', { max: want || 1, value: 0 }), h('span'));
  fill(gridBox, bar);
  // Grades and districts never change after the draw: read the visits again only when the
  // task's status does (states in the dots' titles), not after every result or review.
  const cacheKey = `${task.id}:${task.status}`;
  const visits = app.map.key === cacheKey ? app.map.visits : [];
  try {
    while (visits.length < want) {
      const page = (await asReader(Q_MAP, { id: task.id, offset: visits.length })).jointInspectionTask.visits;
      if (!page.length) break;
      visits.push(...page);
      bar.firstChild.value = visits.length;
      bar.lastChild.textContent = t('loadingVisits', { read: visits.length, total: want });
    }
  } catch (err) {
    fill(gridBox, h('p', { class: 'error', role: 'alert' }, describeError(err)));
    return;
  }
  app.map = { key: cacheKey, visits };
  fill(gridBox, districtGrid(visits.slice(0, want)),
    total > want ? h('p', { class: 'muted small' }, t('gridTruncated', { n: want })) : null);
}

// -- audit trail (planners) ---------------------------------------------------------------------
async function renderAudit(box, task) {
  if (!identities.planner()) {
    box.remove();
    return;
  }
  let trail;
  try {
    trail = (await asPlanner(Q_AUDIT, { id: task.id })).auditTrail;
  } catch (err) {
    fill(box, h('h2', {}, t('audit')), h('p', { class: 'error' }, describeError(err)));
    return;
  }
  const check = trail.verification;
  fill(box, h('details', {},
    h('summary', {}, h('strong', {}, t('audit')), ' ',
      h('span', { class: check.ok ? 'ok' : 'error', 'data-testid': 'audit-check' },
        check.ok ? t('auditOk', { n: check.entries }) : t('auditBroken', { seq: check.firstBrokenSeq, reason: check.reason }))),
    h('ol', { class: 'audit' }, trail.entries.map((e) => h('li', {},
      h('span', { class: 'mono small' }, `#${e.seq}`), ' ', h('strong', {}, e.action), ' ', e.actor, ' ',
      h('small', { class: 'muted' }, fmtTime(e.at)))))));
}

// -- routing ------------------------------------------------------------------------------------
async function route() {
  renderChrome();
  renderIdentity();
  if (!reader()) {
    renderSignIn();
    return;
  }
  if (!app.departments.length) {
    try {
      await loadDepartments();
    } catch (err) {
      fill(main, h('p', { class: 'error', role: 'alert', 'data-testid': 'load-error' }, describeError(err)));
      renderIdentity();
      return;
    }
    renderIdentity(); // department names are known now
  }
  const m = location.hash.match(/task=([0-9a-f-]{36})/i);
  renderTaskList(m ? m[1] : null);
  if (m) await showTask(m[1]);
  else showCompose();
}

function renderChrome() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('#lang').textContent = t('langToggle');
  document.title = `${t('title')} · Joint Supervision Hub`;
}

$('#lang').addEventListener('click', () => {
  setLang(lang === 'zh' ? 'en' : 'zh');
  closeQuietly();
  route();
});
window.addEventListener('hashchange', () => {
  app.added = null;
  closeQuietly();
  route();
});
setLang(lang);
route();
