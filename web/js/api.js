// The hub's public GraphQL API and the identities (bearer tokens) this browser holds.
// Everything the page does is a POST to /graphql, exactly what an integration partner's
// client would send, so this file doubles as a small example client.

// Relative to the page (/plan/), so the page also works behind a path prefix.
const ENDPOINT = new URL('../graphql', document.baseURI).href;

export class ApiError extends Error {
  constructor(message, ext = {}, status = 200) {
    super(message);
    this.code = ext.code || `HTTP_${status}`;
    this.ext = ext;
    this.status = status;
  }
}

/** Run one operation as `token`; resolves to `data`, rejects with the first error. */
export async function gql(query, variables, token) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
  } catch (e) {
    throw new ApiError(String(e.message || e), { code: 'NETWORK' }, 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page: the status says enough.
  }
  const first = body?.errors?.[0];
  if (response.status === 429) {
    const ext = { code: 'RATE_LIMITED', retryAfter: response.headers.get('retry-after') };
    throw new ApiError(first?.message || '', ext, 429);
  }
  // A field error (a refused mutation, a department down) comes with HTTP 200 and null data
  // for that field: the page treats it as a failure of the whole action.
  if (first) throw new ApiError(first.message, first.extensions || {}, response.status);
  if (!response.ok || !body) throw new ApiError(`HTTP ${response.status}`, {}, response.status);
  return body.data;
}

// -- identities ---------------------------------------------------------------------------
// A token's claims are decoded here only to label it and to pick the right one for an
// action; the hub verifies every token on every request.

const KEY = 'jsh.plan.identities';

export function decodeToken(token) {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return {
      token: token.trim(),
      sub: String(claims.sub ?? ''),
      dept: String(claims.dept ?? ''),
      roles: Array.isArray(claims.roles) ? claims.roles.map(String) : [],
      name: claims.name ? String(claims.name) : null,
      exp: typeof claims.exp === 'number' ? claims.exp : null,
    };
  } catch {
    return null;
  }
}

function load(storage) {
  try {
    return JSON.parse(storage.getItem(KEY) || '[]')
      .map((token) => decodeToken(token))
      .filter(Boolean)
      .map((id) => ({ ...id, remember: storage === localStorage }));
  } catch {
    return [];
  }
}

function save(list) {
  // Tokens the user asked to remember go to localStorage, the others die with the tab.
  localStorage.setItem(KEY, JSON.stringify(list.filter((i) => i.remember).map((i) => i.token)));
  sessionStorage.setItem(KEY, JSON.stringify(list.filter((i) => !i.remember).map((i) => i.token)));
}

export const idKey = (i) => `${i.sub}@${i.dept}`;
export const expired = (i) => i.exp !== null && i.exp * 1000 <= Date.now();
const isPlanner = (i) => i.roles.includes('planner');

export const identities = {
  all() {
    return [...load(sessionStorage), ...load(localStorage)];
  },
  /** Add (or replace: one identity per subject and department) a checked token. */
  add(identity, remember) {
    const rest = this.all().filter((i) => idKey(i) !== idKey(identity));
    save([{ ...identity, remember }, ...rest]);
  },
  remove(key) {
    save(this.all().filter((i) => idKey(i) !== key));
  },
  live() {
    return this.all().filter((i) => !expired(i));
  },
  planner() {
    return this.live().find(isPlanner) || null;
  },
  /** Who reads: a planner when there is one, else any officer (both may read tasks). */
  reader() {
    return this.planner() || this.live()[0] || null;
  },
  /** Who may enter a visit's result: inspectors of a department on its team. */
  officersFor(departments) {
    return this.live().filter((i) => departments.includes(i.dept) && i.roles.includes('inspector'));
  },
  /** Who may review a result: reviewers of the entering or the lead department, never the
   *  person who entered it (four eyes; the hub checks it again). */
  reviewersFor(departments, enteredBy) {
    return this.live().filter(
      (i) => i.roles.includes('reviewer') && departments.includes(i.dept) && i.sub !== enteredBy,
    );
  },
};

// -- idempotency keys -------------------------------------------------------------------------
// Every command carries a key: the same input sent again (a double click, a retry after a
// lost answer) returns the first answer instead of acting twice. A key is reused while the
// input stays the same and replaced when it changes (the hub refuses one key for two inputs).

const keys = new Map();

export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function keyFor(scope, input, storage = null) {
  const body = JSON.stringify(input);
  const stored = storage ? JSON.parse(storage.getItem(`jsh.plan.key.${scope}`) || 'null') : keys.get(scope);
  if (stored && stored.body === body) return stored.key;
  const entry = { body, key: `${scope}-${randomKey()}` };
  if (storage) storage.setItem(`jsh.plan.key.${scope}`, JSON.stringify(entry));
  else keys.set(scope, entry);
  return entry.key;
}
