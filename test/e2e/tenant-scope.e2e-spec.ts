import pg from 'pg';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall } from '../support/e2e/admin-setup.js';
import { productModeFromEnv, startProduct, type Product } from '../support/e2e/product.js';

/**
 * Who may do what where, through the admin API (issue 11): every /admin route, for every
 * principal (the organisation admin = the bootstrap key, a project admin of proj-a and one of
 * proj-b, a client key, an unknown key), on rows of every owner (organisation-wide, proj-a,
 * proj-b). A route is one line of ROUTES; what each principal may do follows from the kind of
 * operation (EXPECTED). After each call the test checks, as the organisation admin, that nothing
 * outside the caller's scope changed.
 */

type Who = 'orgAdmin' | 'adminA' | 'adminB' | 'client' | 'unknownKey';
type Owner = 'org' | 'A' | 'B';
/** A create may also leave projectId out: the row lands in the caller's own project (or organisation-wide). */
type CreateOwner = Owner | 'omitted';
type Op = 'create' | 'list' | 'read' | 'change' | 'run' | 'report';
type Sharing = 'shared' | 'private';

const WHO: Who[] = ['orgAdmin', 'adminA', 'adminB', 'client', 'unknownKey'];
const OWNERS: Owner[] = ['org', 'A', 'B'];
const PROJECT: Record<Owner, string | null> = { org: null, A: 'proj-a', B: 'proj-b' };
const OWN_PROJECT: Record<Who, string | null> = { orgAdmin: null, adminA: 'proj-a', adminB: 'proj-b', client: null, unknownKey: null };
const UPSTREAM_KEY = 'sk-upstream-tenancy-secret-0001';

interface Kind {
  path: string;
  /** Shared kinds show a project admin the organisation-wide rows too; private ones (keys) do not. */
  sharing: Sharing;
  createBody(name: string, owner: CreateOwner, forWho: Who): Record<string, unknown>;
}

type KindName = 'connections' | 'providerModels' | 'modelDefinitions' | 'gatewayKeys';

const fixtures = {} as Record<KindName, Record<Owner, string>>;
const names = {} as Record<KindName, Record<Owner, string>>;

function withProject(owner: CreateOwner): { projectId?: string | null } {
  if (owner === 'omitted') return {};
  return { projectId: PROJECT[owner] };
}

const KINDS: Record<KindName, Kind> = {
  connections: {
    path: '/admin/connections',
    sharing: 'shared',
    createBody: (name, owner) => ({ name, adapter: 'openai-compatible', baseUrl: fake.url, apiKey: UPSTREAM_KEY, ...withProject(owner) }),
  },
  providerModels: {
    path: '/admin/provider-models',
    sharing: 'shared',
    createBody: (name, owner) => ({
      name,
      // A project's model may use the organisation-wide connection or its project's own.
      connectionId: fixtures.connections[owner === 'omitted' ? 'org' : owner],
      upstreamModel: `upstream-${name}`,
      ...withProject(owner),
    }),
  },
  modelDefinitions: {
    path: '/admin/model-definitions',
    sharing: 'shared',
    createBody: (name, owner) => ({ name, matchPattern: `^upstream-${name}$`, prices: { input: '0.000001', output: '0.000002' }, ...withProject(owner) }),
  },
  gatewayKeys: {
    path: '/admin/gateway-keys',
    sharing: 'private',
    createBody: (name, owner) => ({ name, role: 'client', ...withProject(owner) }),
  },
};

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  op: Op;
  kind?: KindName;
  /** The call removes or revokes its target: each case gets a fresh one. */
  destroys?: boolean;
}

/** Every /admin route (apps/gateway/src/**\/*.controller.ts). A new route is one line here. */
const ROUTES: Route[] = [
  { method: 'POST', path: '/admin/connections', op: 'create', kind: 'connections' },
  { method: 'GET', path: '/admin/connections', op: 'list', kind: 'connections' },
  { method: 'GET', path: '/admin/connections/:id', op: 'read', kind: 'connections' },
  { method: 'POST', path: '/admin/connections/:id/reveal', op: 'change', kind: 'connections' },
  { method: 'DELETE', path: '/admin/connections/:id', op: 'change', kind: 'connections', destroys: true },
  { method: 'POST', path: '/admin/provider-models', op: 'create', kind: 'providerModels' },
  { method: 'GET', path: '/admin/provider-models', op: 'list', kind: 'providerModels' },
  { method: 'GET', path: '/admin/provider-models/:id', op: 'read', kind: 'providerModels' },
  { method: 'DELETE', path: '/admin/provider-models/:id', op: 'change', kind: 'providerModels', destroys: true },
  { method: 'POST', path: '/admin/model-definitions', op: 'create', kind: 'modelDefinitions' },
  { method: 'GET', path: '/admin/model-definitions', op: 'list', kind: 'modelDefinitions' },
  { method: 'GET', path: '/admin/model-definitions/:id', op: 'read', kind: 'modelDefinitions' },
  { method: 'PATCH', path: '/admin/model-definitions/:id', op: 'change', kind: 'modelDefinitions' },
  { method: 'DELETE', path: '/admin/model-definitions/:id', op: 'change', kind: 'modelDefinitions', destroys: true },
  { method: 'POST', path: '/admin/gateway-keys', op: 'create', kind: 'gatewayKeys' },
  { method: 'GET', path: '/admin/gateway-keys', op: 'list', kind: 'gatewayKeys' },
  { method: 'GET', path: '/admin/gateway-keys/:id', op: 'read', kind: 'gatewayKeys' },
  { method: 'DELETE', path: '/admin/gateway-keys/:id', op: 'change', kind: 'gatewayKeys', destroys: true },
  { method: 'POST', path: '/admin/playground/runs', op: 'run' },
  { method: 'GET', path: '/admin/usage/costs', op: 'report' },
];

const ALL = (status: number) => ({ org: status, A: status, B: status, omitted: status });
const AT_THE_DOOR = { client: ALL(403), unknownKey: ALL(401) };
type StatusTable = Record<Who, Partial<Record<CreateOwner, number>>>;

/**
 * The rule, written out: HTTP status by operation, principal and owner of the row. A project admin
 * gets not_found for what it cannot even see (another project's rows; organisation-wide keys) and
 * forbidden for what it sees but may not change (organisation-wide connections, models, definitions).
 */
const EXPECTED: Record<string, StatusTable> = {
  'create shared': {
    orgAdmin: ALL(201),
    adminA: { org: 403, A: 201, B: 403, omitted: 201 },
    adminB: { org: 403, A: 403, B: 201, omitted: 201 },
    ...AT_THE_DOOR,
  },
  'list shared': { orgAdmin: ALL(200), adminA: ALL(200), adminB: ALL(200), ...AT_THE_DOOR },
  'read shared': { orgAdmin: ALL(200), adminA: { org: 200, A: 200, B: 404 }, adminB: { org: 200, A: 404, B: 200 }, ...AT_THE_DOOR },
  'change shared': { orgAdmin: ALL(200), adminA: { org: 403, A: 200, B: 404 }, adminB: { org: 403, A: 404, B: 200 }, ...AT_THE_DOOR },
  'read private': { orgAdmin: ALL(200), adminA: { org: 404, A: 200, B: 404 }, adminB: { org: 404, A: 404, B: 200 }, ...AT_THE_DOOR },
  'change private': { orgAdmin: ALL(200), adminA: { org: 404, A: 200, B: 404 }, adminB: { org: 404, A: 404, B: 200 }, ...AT_THE_DOOR },
  run: { orgAdmin: ALL(201), adminA: ALL(201), adminB: ALL(201), ...AT_THE_DOOR },
  report: { orgAdmin: ALL(200), adminA: ALL(200), adminB: ALL(200), ...AT_THE_DOOR },
};
EXPECTED['create private'] = EXPECTED['create shared'];
EXPECTED['list private'] = EXPECTED['list shared'];

/** Which fixture rows a list shows each admin. */
const LISTED: Record<Sharing, Partial<Record<Who, Owner[]>>> = {
  shared: { orgAdmin: ['org', 'A', 'B'], adminA: ['org', 'A'], adminB: ['org', 'B'] },
  private: { orgAdmin: ['org', 'A', 'B'], adminA: ['A'], adminB: ['B'] },
};

/** A playground run reaches a model through /v1 with the caller's key: its project's models and the organisation-wide ones. */
const RUN_STATUS: Partial<Record<Who, Record<Owner, 'succeeded' | 'failed'>>> = {
  orgAdmin: { org: 'succeeded', A: 'failed', B: 'failed' },
  adminA: { org: 'succeeded', A: 'succeeded', B: 'failed' },
  adminB: { org: 'succeeded', A: 'failed', B: 'succeeded' },
};

function ownersOf(route: Route): CreateOwner[] {
  if (route.op === 'create') return [...OWNERS, 'omitted'];
  if (route.op === 'list' || route.op === 'report') return ['org'];
  return OWNERS;
}

function expectedStatus(route: Route, who: Who, owner: CreateOwner): number {
  const table = route.kind ? EXPECTED[`${route.op} ${KINDS[route.kind].sharing}`] : EXPECTED[route.op];
  const status = table?.[who][owner];
  if (status === undefined) throw new Error(`no expectation for ${route.method} ${route.path} as ${who} on ${owner}`);
  return status;
}

let fake: FakeOpenAI;
let product: Product;
const keys = {} as Record<Who, string>;
const keyIds = {} as Record<Who, string>;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
  requestId: string | null;
}

async function call(who: Who, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${product.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${keys[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, text, requestId: res.headers.get('x-request-id') };
}

/** A row created by the organisation admin in `owner`'s space; returns its id. */
async function createAsOrgAdmin(kind: KindName, owner: Owner, name = unique(kind)): Promise<string> {
  const created = await adminCall<{ id: string }>(product, 'POST', KINDS[kind].path, KINDS[kind].createBody(name, owner, 'orgAdmin'));
  return created.id;
}

async function orgAdminSees(kind: KindName, id: string): Promise<Answer> {
  return call('orgAdmin', 'GET', `${KINDS[kind].path}/${id}`);
}

async function listedIds(who: Who, kind: KindName): Promise<Set<string>> {
  const answer = await call(who, 'GET', `${KINDS[kind].path}?limit=200`);
  return new Set((answer.body.items as { id: string }[]).map((i) => i.id));
}

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: product.databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The database's clock, to select audit rows (stamped with now() as they are written) written after this moment. */
async function dbNow(): Promise<string> {
  const [row] = await sql<{ now: string }>(`SELECT clock_timestamp()::text AS now`);
  return row!.now;
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: UPSTREAM_KEY });
  product = await startProduct();
  keys.orgAdmin = product.adminKey;
  keys.unknownKey = 'sk-gw-NotAKeyThisGatewayEverIssued0000000000000';
  keyIds.unknownKey = 'anonymous';
  for (const [who, body] of [
    ['adminA', { name: 'admin-of-a', role: 'admin', projectId: 'proj-a' }],
    ['adminB', { name: 'admin-of-b', role: 'admin', projectId: 'proj-b' }],
    ['client', { name: 'a-client', role: 'client' }],
  ] as const) {
    const created = await adminCall<{ key: string; id: string }>(product, 'POST', '/admin/gateway-keys', body);
    keys[who] = created.key;
    keyIds[who] = created.id;
  }
  for (const kind of Object.keys(KINDS) as KindName[]) {
    fixtures[kind] = {} as Record<Owner, string>;
    names[kind] = {} as Record<Owner, string>;
    for (const owner of OWNERS) {
      names[kind][owner] = unique(`fixture-${owner}`);
      fixtures[kind][owner] = await createAsOrgAdmin(kind, owner, names[kind][owner]);
    }
  }
  // New keys and models are live on the gateway within a second (change events).
  await eventually(() => call('adminB', 'GET', '/admin/connections'), (a) => a.status === 200, 'the project admin keys');
  await eventually(() => call('client', 'GET', '/admin/connections'), (a) => a.status === 403, 'the client key');
  await eventually(
    async () => {
      const res = await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${keys.adminA}` } });
      return res.status === 200 ? ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id) : [];
    },
    (models) => models.includes(names.providerModels.A) && models.includes(names.providerModels.org),
    'the fixture models routable',
  );
}, 180_000);

afterAll(async () => {
  await product?.stop();
  await fake?.close();
}, 60_000);

const CASES = ROUTES.flatMap((route) =>
  WHO.flatMap((who) => ownersOf(route).map((owner) => ({ route, who, owner, status: expectedStatus(route, who, owner) }))),
);

describe('tenant scope of every /admin route', () => {
  it.each(CASES.map((c) => [`${c.who} ${c.route.method} ${c.route.path} on ${c.owner === 'omitted' ? 'no project given' : `a ${c.owner} row`} answers ${c.status}`, c] as const))(
    '%s',
    async (_name, { route, who, owner, status }) => {
      const kind = route.kind;
      let id: string | undefined;
      if (kind && (route.op === 'read' || route.op === 'change')) {
        id = route.destroys ? await createAsOrgAdmin(kind, owner as Owner) : fixtures[kind][owner as Owner];
      }
      const name = unique(`${who}-made`);
      const body =
        route.op === 'create' && kind
          ? KINDS[kind].createBody(name, owner, who)
          : route.op === 'run'
            ? { model: names.providerModels[owner as Owner], messages: [{ role: 'user', content: 'hi' }], maxTokens: 5 }
            : undefined;
      const path = (route.op === 'list' ? `${route.path}?limit=200` : route.op === 'report' ? `${route.path}?groupBy=project` : route.path).replace(':id', id ?? '');
      const answer = await call(who, route.method, path, body);

      expect({ status: answer.status, body: answer.status === status ? undefined : answer.text }).toEqual({ status, body: undefined });
      expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
      if (answer.status >= 400) expect((answer.body.error as { code: string }).code).toBe({ 400: 'validation_failed', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' }[answer.status]);
      // Never a secret in a refusal, and never in anything but a reveal.
      if (!(route.path.endsWith('/reveal') && answer.status === 200)) expect(answer.text).not.toContain(UPSTREAM_KEY);

      switch (route.op) {
        case 'create': {
          const listed = [...(await listedIds('orgAdmin', kind!))];
          if (answer.status === 201) {
            const expectedProject = owner === 'omitted' ? OWN_PROJECT[who] : PROJECT[owner];
            expect(answer.body.projectId).toBe(expectedProject);
            expect(listed).toContain(answer.body.id);
          } else {
            const all = await call('orgAdmin', 'GET', `${KINDS[kind!].path}?limit=200`);
            expect((all.body.items as { name: string }[]).map((i) => i.name)).not.toContain(name);
          }
          break;
        }
        case 'list': {
          if (answer.status !== 200) break;
          const seen = new Set((answer.body.items as { id: string }[]).map((i) => i.id));
          const visibleFixtures = OWNERS.filter((o) => seen.has(fixtures[kind!][o]));
          expect(visibleFixtures).toEqual(LISTED[KINDS[kind!].sharing][who]);
          break;
        }
        case 'read':
          if (answer.status === 200) expect(answer.body.id).toBe(id);
          break;
        case 'change': {
          const after = await orgAdminSees(kind!, id!);
          if (route.path.endsWith('/reveal')) {
            if (answer.status === 200) expect(answer.body.apiKey).toBe(UPSTREAM_KEY);
            expect(after.status).toBe(200);
          } else if (kind === 'gatewayKeys') {
            // Revoked (only) when the answer says so.
            expect(after.status).toBe(200);
            expect(after.body.revokedAt === null).toBe(answer.status !== 200);
          } else if (!route.destroys) {
            // An edit (PATCH) leaves the row in place, changed only when the answer says so.
            expect(after.status).toBe(200);
            if (answer.status === 200) expect(answer.body.id).toBe(id);
          } else {
            expect(after.status).toBe(answer.status === 200 ? 404 : 200);
          }
          break;
        }
        case 'run':
          if (answer.status === 201) expect(answer.body.status).toBe(RUN_STATUS[who]![owner as Owner]);
          break;
        case 'report':
          if (answer.status === 200) expect(Array.isArray(answer.body.groups)).toBe(true);
          break;
      }
    },
  );

  it('lets a project admin mint an admin key for its own project, usable on its project only', async () => {
    const minted = await call('adminA', 'POST', '/admin/gateway-keys', { name: unique('second-admin-a'), role: 'admin' });
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ role: 'admin', projectId: 'proj-a' });
    const key = minted.body.key as string;
    const answer = await eventually(
      async () => (await fetch(`${product.url}/admin/connections/${fixtures.connections.B}`, { headers: { authorization: `Bearer ${key}` } })).status,
      (s) => s !== 401,
      'the minted key',
    );
    expect(answer).toBe(404);
  });

  it('reports costs to a project admin for its own project only', async () => {
    // The matrix's playground runs left usage in proj-a, proj-b and organisation-wide.
    const groups = async (who: Who) =>
      ((await call(who, 'GET', '/admin/usage/costs?groupBy=project')).body.groups as { key: string }[]).map((g) => g.key).sort();
    await eventually(() => groups('orgAdmin'), (g) => g.includes('proj-a') && g.includes('proj-b'), 'usage of both projects', 20_000);
    expect(await groups('adminA')).toEqual(['proj-a']);
    expect(await groups('adminB')).toEqual(['proj-b']);
  });
});

const distributedOnly = productModeFromEnv() === 'distributed' ? describe : describe.skip;

/** The audit logs live in each service's schema; read them where the services keep them. */
distributedOnly('audit of refused admin actions', () => {
  interface AuditRow {
    actor_key_id: string;
    actor_project_id: string | null;
    action: string;
    target_id: string | null;
    outcome: string;
    reason: string | null;
  }
  const COLUMNS = 'actor_key_id, actor_project_id, action, target_id, outcome, reason';

  it('records a project admin refused a reveal and a delete of an organisation-wide connection in the vault audit log', async () => {
    const target = await createAsOrgAdmin('connections', 'org');
    expect((await call('adminA', 'POST', `/admin/connections/${target}/reveal`)).status).toBe(403);
    expect((await call('adminA', 'DELETE', `/admin/connections/${target}`)).status).toBe(403);
    const rows = await eventually(
      () => sql<AuditRow>(`SELECT ${COLUMNS} FROM vault.audit_log WHERE target_id = $1 AND outcome = 'denied' ORDER BY action`, [target]),
      (r) => r.length === 2,
      'two denied rows',
    );
    expect(rows).toEqual([
      { actor_key_id: keyIds.adminA, actor_project_id: 'proj-a', action: 'connection.deleted', target_id: target, outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
      { actor_key_id: keyIds.adminA, actor_project_id: 'proj-a', action: 'connection.revealed', target_id: target, outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
    ]);
  });

  it("records a project admin's reveal of another project's connection as denied, though the answer is not_found", async () => {
    // The matrix above made the same refused reveal: only rows written from now on are this test's.
    const since = await dbNow();
    expect((await call('adminB', 'POST', `/admin/connections/${fixtures.connections.A}/reveal`)).status).toBe(404);
    const rows = await eventually(
      () =>
        sql<AuditRow>(`SELECT ${COLUMNS} FROM vault.audit_log WHERE target_id = $1 AND actor_key_id = $2 AND action = 'connection.revealed' AND at >= $3`, [
          fixtures.connections.A,
          keyIds.adminB,
          since,
        ]),
      (r) => r.length > 0,
      'the denied reveal row',
    );
    expect(rows).toContainEqual(expect.objectContaining({ outcome: 'denied', actor_project_id: 'proj-b', reason: expect.stringContaining('outside') }));
  });

  it('records key creation refused for another project or organisation-wide, and a refused revoke, in the gateway audit log', async () => {
    const beforeKeys = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM gateway.api_keys`);
    // The matrix above left denied rows of adminA too (the same refusals among them): only rows
    // written from now on are this test's, and each of the three is waited for (written after the answer).
    const since = await dbNow();
    expect((await call('adminA', 'POST', '/admin/gateway-keys', { name: unique('into-b'), projectId: 'proj-b', role: 'admin' })).status).toBe(403);
    expect((await call('adminA', 'POST', '/admin/gateway-keys', { name: unique('org-wide'), projectId: null, role: 'admin' })).status).toBe(403);
    expect((await call('adminA', 'DELETE', `/admin/gateway-keys/${keyIds.adminB}`)).status).toBe(404);
    expect(await sql(`SELECT count(*)::int AS n FROM gateway.api_keys`)).toEqual(beforeKeys);
    const rows = await eventually(
      () => sql<AuditRow>(`SELECT ${COLUMNS} FROM gateway.audit_log WHERE actor_key_id = $1 AND outcome = 'denied' AND at >= $2 ORDER BY at`, [keyIds.adminA, since]),
      (r) =>
        r.some((x) => x.action === 'gateway_key.created' && x.reason?.includes('project proj-b')) &&
        r.some((x) => x.action === 'gateway_key.created' && x.reason?.includes('organisation-wide')) &&
        r.some((x) => x.action === 'gateway_key.revoked' && x.target_id === keyIds.adminB),
      'three denied rows',
    );
    expect(rows).toHaveLength(3);
    // Refusals are written just after their answer, so two within a millisecond may share `at`: compare as a set.
    expect(rows).toEqual(
      expect.arrayContaining([
        { actor_key_id: keyIds.adminA, actor_project_id: 'proj-a', action: 'gateway_key.created', target_id: null, outcome: 'denied', reason: expect.stringContaining('project proj-b') },
        { actor_key_id: keyIds.adminA, actor_project_id: 'proj-a', action: 'gateway_key.created', target_id: null, outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
        { actor_key_id: keyIds.adminA, actor_project_id: 'proj-a', action: 'gateway_key.revoked', target_id: keyIds.adminB, outcome: 'denied', reason: expect.stringContaining('outside') },
      ]),
    );
  });

  it('records a client key and an unknown key trying to reveal, delete or create at the door, with actor and reason', async () => {
    const target = fixtures.connections.org;
    // The matrix above made some of the same refused calls: only rows written from now on are this test's.
    const since = await dbNow();
    expect((await call('client', 'POST', `/admin/connections/${target}/reveal`)).status).toBe(403);
    expect((await call('unknownKey', 'DELETE', `/admin/connections/${target}`)).status).toBe(401);
    expect((await call('unknownKey', 'POST', '/admin/gateway-keys', { name: unique('sneaky') })).status).toBe(401);
    const rows = await eventually(
      () =>
        sql<AuditRow>(
          `SELECT ${COLUMNS} FROM gateway.audit_log WHERE at >= $3 AND ((actor_key_id = $1 AND action = 'connection.revealed' AND target_id = $2)
              OR (actor_key_id = 'anonymous' AND ((action = 'connection.deleted' AND target_id = $2) OR action = 'gateway_key.created')))`,
          [keyIds.client, target, since],
        ),
      // Other suites' unknown keys leave anonymous rows too: wait for each of this test's three.
      (r) =>
        r.some((x) => x.actor_key_id === keyIds.client) &&
        r.some((x) => x.action === 'connection.deleted') &&
        r.some((x) => x.actor_key_id === 'anonymous' && x.action === 'gateway_key.created'),
      'the door rows',
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { actor_key_id: keyIds.client, actor_project_id: null, action: 'connection.revealed', target_id: target, outcome: 'denied', reason: expect.stringContaining('/v1 only') },
        { actor_key_id: 'anonymous', actor_project_id: null, action: 'connection.deleted', target_id: target, outcome: 'denied', reason: 'invalid or revoked key' },
        { actor_key_id: 'anonymous', actor_project_id: null, action: 'gateway_key.created', target_id: null, outcome: 'denied', reason: 'invalid or revoked key' },
      ]),
    );
    // The connection the refused calls aimed at is untouched.
    expect((await orgAdminSees('connections', target)).status).toBe(200);
  });

  it('records a project admin refused the delete of an organisation-wide provider model and definition in the registry audit log', async () => {
    const model = await createAsOrgAdmin('providerModels', 'org');
    const definition = await createAsOrgAdmin('modelDefinitions', 'org');
    expect((await call('adminB', 'DELETE', `/admin/provider-models/${model}`)).status).toBe(403);
    expect((await call('adminB', 'DELETE', `/admin/model-definitions/${definition}`)).status).toBe(403);
    const rows = await eventually(
      () => sql<AuditRow>(`SELECT ${COLUMNS} FROM registry.audit_log WHERE target_id = ANY($1) AND outcome = 'denied' ORDER BY action`, [[model, definition]]),
      (r) => r.length === 2,
      'two denied registry rows',
    );
    expect(rows).toEqual([
      { actor_key_id: keyIds.adminB, actor_project_id: 'proj-b', action: 'model_definition.deleted', target_id: definition, outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
      { actor_key_id: keyIds.adminB, actor_project_id: 'proj-b', action: 'provider_model.deleted', target_id: model, outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
    ]);
  });

  it('records successful key creation and revocation with their actor in the same log', async () => {
    const minted = await call('adminB', 'POST', '/admin/gateway-keys', { name: unique('b-client') });
    expect(minted.status).toBe(201);
    expect((await call('adminB', 'DELETE', `/admin/gateway-keys/${minted.body.id as string}`)).status).toBe(200);
    const rows = await sql<AuditRow>(`SELECT ${COLUMNS} FROM gateway.audit_log WHERE target_id = $1 ORDER BY at, action`, [minted.body.id]);
    expect(rows.map((r) => [r.actor_key_id, r.action, r.outcome])).toEqual([
      [keyIds.adminB, 'gateway_key.created', 'succeeded'],
      [keyIds.adminB, 'gateway_key.revoked', 'succeeded'],
    ]);
  });
});
