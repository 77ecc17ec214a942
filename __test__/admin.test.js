'use strict';
// The admin service (@shared-infra/job-queue/admin) through real HTTP requests against a real
// Redis: every route with no token, an expired token, a wrong signature, a token without the
// permission and a valid one, for each way of verifying tokens (HS256 secret, RS256 and ES256
// public keys, a JWKS URL served by a local HTTP server); the token's claims; access control
// and the rate limit through the coordinator's securityManager / accessControl interface;
// bad input (a typed error, nothing written); the probes; the options.

const test = require('node:test');
const assert = require('node:assert/strict');
const { generateKeyPairSync } = require('node:crypto');
const { ValidationError, JobQueueCoordinator } = require('..');
const { createAdminServer, adminOptionsFromEnv } = require('../lib/admin');
const { waitFor, freePort, REDIS_URL } = require('./helpers');
const { SETUPS, signed, startAdmin, securityStub } = require('./admin-api');

const READ = 'queues:read';
const WRITE = 'queues:write';
const BOTH = `${READ} ${WRITE}`;

/** A queue with one worker on it (which fails jobs named 'bad' for good) and one failed job. */
async function queueWithFailedJob(c, queue) {
  const worker = await c.registerWorker(queue, async (job) => {
    if (job.name === 'bad') throw new Error('bad input');
    return 'ok';
  });
  worker.on('error', () => {});
  const job = await c.enqueueJob(queue, 'bad', { n: 1 }, { attempts: 1 });
  await waitFor(async () => (await c.getJob(queue, job.id))?.failedReason === 'bad input', { message: 'the job failed' });
  return job.id;
}

/** The routes (§12.3–12.4 and the audit log) with what a valid call must answer. */
function routes(q, failedId) {
  return [
    { method: 'GET', path: '/metrics', scope: READ, check: (r) => assert.match(r.text, new RegExp(`queue_jobs_failed\\{queue="${q}"\\} 1`)) },
    { method: 'GET', path: '/queues', scope: READ, check: (r) => assert.deepEqual(r.json.queues.map((s) => s.name), [q]) },
    { method: 'GET', path: `/queues/${q}`, scope: READ, check: (r) => assert.equal(r.json.jobCounts.failed, 1) },
    { method: 'GET', path: `/queues/${q}/health`, scope: READ, check: (r) => assert.equal(r.json.queueName, q) },
    { method: 'GET', path: `/queues/${q}/failed`, scope: READ, check: (r) => assert.deepEqual([r.json.total, r.json.jobs.map((j) => [j.id, j.error.message])], [1, [[failedId, 'bad input']]]) },
    { method: 'GET', path: '/audit', scope: READ, check: (r) => assert.ok(Array.isArray(r.json.entries) && r.json.entries.length > 0) },
    { method: 'POST', path: `/queues/${q}/scale`, body: { targetWorkers: 2 }, scope: WRITE, check: (r) => assert.deepEqual([r.json.previousCount, r.json.actualCount], [1, 2]) },
    { method: 'POST', path: `/queues/${q}/failed/${failedId}/requeue`, scope: WRITE, check: (r) => assert.deepEqual(r.json, { queueName: q, jobId: failedId, requeued: true }) },
    { method: 'POST', path: `/queues/${q}/pause`, scope: WRITE, check: (r) => assert.equal(r.json.isPaused, true) },
    { method: 'POST', path: `/queues/${q}/resume`, scope: WRITE, check: (r) => assert.equal(r.json.isPaused, false) },
  ];
}

for (const setup of SETUPS) {
  test(`every route: no token, expired, wrong signature and missing scope are refused; a valid token is served (${setup.name})`, { timeout: 60000 }, async (t) => {
    const keys = await setup.make(t);
    const security = securityStub();
    const { c, call } = await startAdmin(t, { auth: keys.auth });
    c.securityManager = security;
    const q = 'photos';
    const failedId = await queueWithFailedJob(c, q);
    const list = routes(q, failedId);

    for (const r of list) {
      const what = `${r.method} ${r.path}`;
      const none = await call(r.method, r.path, { body: r.body });
      assert.equal(none.status, 401, `${what} without a token`);
      assert.equal(none.json.code, 'ERR_UNAUTHENTICATED');
      assert.equal(none.json.reason, 'missing');
      assert.match(none.headers.get('www-authenticate'), /^Bearer/);

      const expired = await call(r.method, r.path, { body: r.body, token: await keys.sign({ scope: BOTH, exp: -60 }) });
      assert.deepEqual([expired.status, expired.json.code, expired.json.reason], [401, 'ERR_UNAUTHENTICATED', 'expired'], `${what} expired`);

      const forged = await call(r.method, r.path, { body: r.body, token: await keys.sign({ scope: BOTH }, { forged: true }) });
      assert.deepEqual([forged.status, forged.json.reason], [401, 'bad_signature'], `${what} with a wrong signature`);

      // the other scope only: a GET needs queues:read, a POST queues:write
      const other = r.scope === READ ? WRITE : READ;
      const under = await call(r.method, r.path, { body: r.body, token: await keys.sign({ scope: other }) });
      assert.deepEqual([under.status, under.json.code], [403, 'ERR_FORBIDDEN'], `${what} with only ${other}`);
    }
    // nothing a refused call asked for happened
    assert.equal(c.getWorkers(q).length, 1);
    assert.equal((await c.getJob(q, failedId)).failedReason, 'bad input');
    assert.equal((await c.getQueueStatus(q)).isPaused, false);

    const token = await keys.sign({ scope: BOTH });
    for (const r of list) {
      const ok = await call(r.method, r.path, { body: r.body, token });
      assert.equal(ok.status, 200, `${r.method} ${r.path}: ${ok.text}`);
      r.check(ok);
    }
    assert.equal(c.getWorkers(q).length, 2, 'scaled to 2 workers');

    // the audit log has every call: refused ones (no actor for a bad token) and served ones
    const byAction = (action, outcome) => security.entries.filter((e) => e.action === action && e.metadata.outcome === outcome);
    assert.equal(byAction('admin.scale', 'denied').length, 4);
    assert.deepEqual(byAction('admin.scale', 'denied').map((e) => e.actor), [null, null, null, 'ops']);
    const scaled = byAction('admin.scale', 'success');
    assert.equal(scaled.length, 1);
    assert.deepEqual([scaled[0].queue, scaled[0].actor, scaled[0].metadata.targetWorkers, scaled[0].metadata.statusCode], [q, 'ops', 2, 200]);
    const requeued = byAction('admin.requeue', 'success');
    assert.deepEqual([requeued[0].queue, requeued[0].id], [q, failedId]);
    for (const action of ['admin.metrics', 'admin.queues.list', 'admin.queue.status', 'admin.queue.health', 'admin.failed.list', 'admin.audit', 'admin.pause', 'admin.resume']) {
      assert.equal(byAction(action, 'success').length, 1, action);
    }
    // the rate limit was asked once for each call with a valid token, by the token's sub
    assert.equal(security.rateChecks.length, list.length * 2);
    assert.ok(security.rateChecks.every((id) => id === 'ops'));
  });
}

test('the token claims: issuer, audience, not-before, sub and exp are required as configured; algorithms cannot be swapped', { timeout: 30000 }, async (t) => {
  const secret = 'an HS256 secret that is long enough!!';
  const key = new TextEncoder().encode(secret);
  const { call } = await startAdmin(t, { auth: { jwtSecret: secret, issuer: 'https://id.example', audience: 'job-queue' } });
  const sign = (claims, header = { alg: 'HS256' }, k = key) => signed({ scope: READ, iss: 'https://id.example', aud: 'job-queue', ...claims }, header, k);
  const reason = async (token) => {
    const r = await call('GET', '/queues', { token });
    return [r.status, r.json.reason];
  };
  assert.deepEqual(await reason(await sign({})), [200, undefined]);
  assert.deepEqual(await reason(await sign({ iss: 'https://evil.example' })), [401, 'bad_claim_iss']);
  assert.deepEqual(await reason(await sign({ aud: 'other' })), [401, 'bad_claim_aud']);
  assert.deepEqual(await reason(await sign({ nbf: 120 })), [401, 'not_yet_valid']);
  assert.deepEqual(await reason(await sign({ exp: null })), [401, 'bad_claim_exp']);
  assert.deepEqual(await reason(await sign({ sub: null })), [401, 'bad_claim_sub']);
  assert.deepEqual(await reason(await sign({}, { alg: 'HS512' })), [401, 'algorithm_not_allowed']);
  assert.deepEqual(await reason('not-a-jwt'), [401, 'malformed']);
  // an unsigned token (alg none)
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${b64({ alg: 'none' })}.${b64({ sub: 'ops', scope: READ, exp: Math.floor(Date.now() / 1000) + 60, iss: 'https://id.example', aud: 'job-queue' })}.`;
  assert.equal((await reason(unsigned))[0], 401);
  // `scp` as a list is read too; "bearer" in any case
  const scp = await call('GET', '/queues', { headers: { authorization: `bearer ${await sign({ scope: undefined, scp: [READ] })}` } });
  assert.equal(scp.status, 200);

  // RS256 configured: an HS256 token "signed" with the public key's PEM is refused
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  const rs = await startAdmin(t, { auth: { publicKey: publicPem } });
  const confused = await signed({ scope: READ }, { alg: 'HS256' }, new TextEncoder().encode(publicPem));
  const r = await rs.call('GET', '/queues', { token: confused });
  assert.deepEqual([r.status, r.json.reason], [401, 'algorithm_not_allowed']);
  assert.equal((await rs.call('GET', '/queues', { token: await signed({ scope: READ }, { alg: 'RS256' }, pair.privateKey) })).status, 200);
});

test('a JWKS URL: each key by its kid; a JWKS that cannot be fetched is a 503, not a 401', { timeout: 30000 }, async (t) => {
  const jwks = SETUPS.find((s) => s.name.startsWith('JWKS'));
  const keys = await jwks.make(t);
  const { call } = await startAdmin(t, { auth: keys.auth });
  assert.equal((await call('GET', '/queues', { token: await keys.sign({ scope: READ }) })).status, 200);
  assert.equal((await call('GET', '/queues', { token: await keys.signRsa({ scope: READ }) })).status, 200);

  const down = await startAdmin(t, { auth: { jwksUrl: `http://127.0.0.1:${await freePort()}/jwks.json` } });
  const r = await down.call('GET', '/queues', { token: await keys.sign({ scope: READ }) });
  assert.deepEqual([r.status, r.json.code], [503, 'ERR_AUTH_UNAVAILABLE']);
});

test('access control narrows the scopes queue by queue; AuthorizationError is a 403', { timeout: 30000 }, async (t) => {
  const secret = 'x'.repeat(32);
  const key = new TextEncoder().encode(secret);
  const { c, call } = await startAdmin(t, { auth: { jwtSecret: secret } });
  await c.enqueueJob('open', 'a', {});
  await c.enqueueJob('secret', 'a', {});
  // alice may view "open" and manage nothing; bob is refused by an AuthorizationError
  const asked = [];
  c.accessControl = {
    async canViewQueue(clientId, queue) {
      asked.push(['view', clientId, queue]);
      if (clientId === 'bob') throw Object.assign(new Error('bob is suspended'), { name: 'AuthorizationError', code: 'ERR_FORBIDDEN' });
      return clientId === 'alice' && queue === 'open';
    },
    async canManageQueue(clientId, queue) {
      asked.push(['manage', clientId, queue]);
      return false;
    },
  };
  const alice = await signed({ sub: 'alice', scope: BOTH }, { alg: 'HS256' }, key);
  const list = await call('GET', '/queues', { token: alice });
  assert.deepEqual(list.json.queues.map((s) => s.name), ['open']);
  assert.equal((await call('GET', '/queues/open', { token: alice })).status, 200);
  const hidden = await call('GET', '/queues/secret', { token: alice });
  assert.deepEqual([hidden.status, hidden.json.code], [403, 'ERR_FORBIDDEN']);
  // write scope, but no stored permission to manage
  const pause = await call('POST', '/queues/open/pause', { token: alice });
  assert.deepEqual([pause.status, pause.json.code], [403, 'ERR_FORBIDDEN']);
  assert.equal((await c.getQueueStatus('open')).isPaused, false);
  // the board shows only what alice may view
  const board = await call('GET', '/ui/api/queues', { token: alice });
  assert.deepEqual(board.json.queues.map((q) => q.name), ['open']);
  const boardPause = await call('PUT', '/ui/api/queues/open/pause', { token: alice });
  assert.equal(boardPause.status, 403);
  assert.equal((await c.getQueueStatus('open')).isPaused, false);

  const bob = await signed({ sub: 'bob', scope: BOTH }, { alg: 'HS256' }, key);
  const refused = await call('GET', '/queues/open', { token: bob });
  assert.deepEqual([refused.status, refused.json.code], [403, 'ERR_FORBIDDEN']);
  assert.ok(asked.some(([kind, who, q]) => kind === 'manage' && who === 'alice' && q === 'open'));
});

test('over the client rate limit: 429 with Retry-After, and the route does not run', { timeout: 30000 }, async (t) => {
  const secret = 'y'.repeat(32);
  const key = new TextEncoder().encode(secret);
  const { c, call } = await startAdmin(t, { auth: { jwtSecret: secret } });
  const security = securityStub({ greedy: 1500 });
  c.securityManager = security;
  await c.enqueueJob('rl', 'a', {});
  const greedy = await signed({ sub: 'greedy', scope: BOTH }, { alg: 'HS256' }, key);
  const r = await call('POST', '/queues/rl/pause', { token: greedy });
  assert.deepEqual([r.status, r.json.code, r.json.retryAfterMs, r.headers.get('retry-after')], [429, 'ERR_RATE_LIMITED', 1500, '2']);
  assert.equal((await c.getQueueStatus('rl')).isPaused, false);
  const board = await call('GET', '/ui/api/queues', { token: greedy });
  assert.equal(board.status, 429);
  const login = await call('GET', `/ui/login?token=${greedy}`);
  assert.deepEqual([login.status, login.headers.get('set-cookie')], [429, null]);
  assert.ok(security.entries.some((e) => e.action === 'admin.pause' && e.metadata.outcome === 'denied' && e.metadata.statusCode === 429));
  const fine = await signed({ sub: 'patient', scope: BOTH }, { alg: 'HS256' }, key);
  assert.equal((await call('POST', '/queues/rl/pause', { token: fine })).status, 200);
  assert.deepEqual(security.rateChecks, ['greedy', 'greedy', 'greedy', 'patient']);
});

test('GET /audit passes its filter to getAuditLog (dates as Date), hides queues the client may not view, and is 501 without a securityManager', { timeout: 30000 }, async (t) => {
  const secret = 'z'.repeat(32);
  const key = new TextEncoder().encode(secret);
  const { c, call } = await startAdmin(t, { auth: { jwtSecret: secret } });
  const token = await signed({ sub: 'auditor', scope: READ }, { alg: 'HS256' }, key);
  // a coordinator-like object without a security manager (the admin feature-detects it)
  const real = c.securityManager;
  c.securityManager = undefined;
  const none = await call('GET', '/audit', { token });
  assert.deepEqual([none.status, none.json.code], [501, 'ERR_NOT_AVAILABLE']);

  const security = securityStub();
  c.securityManager = security;
  t.after(() => {
    c.securityManager = real;
  });
  await security.auditJobActivity({ queue: 'a', id: '1' }, 'retry', { actor: 'ops' });
  await security.auditJobActivity({ queue: 'b', id: '2' }, 'retry', { actor: 'ops' });
  c.accessControl = { canViewQueue: async (_id, q) => q === 'a', canManageQueue: async () => false };
  const r = await call('GET', '/audit?since=2026-01-01T00:00:00Z&until=1900000000000&actor=ops&action=retry&limit=10', { token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.entries.map((e) => e.queue), ['a']);
  const f = security.filters[0];
  assert.ok(f.since instanceof Date && f.since.toISOString() === '2026-01-01T00:00:00.000Z');
  assert.equal(f.until.getTime(), 1900000000000);
  assert.deepEqual([f.actor, f.action, f.limit], ['ops', 'retry', 10]);
  assert.equal((await call('GET', '/audit?queue=b', { token })).status, 403);
  for (const bad of ['since=yesterday', 'limit=0', 'limit=5000', 'colour=red']) {
    const b = await call('GET', `/audit?${bad}`, { token });
    assert.deepEqual([b.status, b.json.code], [400, 'ERR_VALIDATION'], bad);
  }
});

test('bad input is a 400 with the field, unknown queues and jobs are 404, and nothing is written', { timeout: 30000 }, async (t) => {
  const secret = 'w'.repeat(32);
  const key = new TextEncoder().encode(secret);
  const { c, call, redis, prefix } = await startAdmin(t, { auth: { jwtSecret: secret } });
  const token = await signed({ scope: BOTH }, { alg: 'HS256' }, key);
  const q = 'inputs';
  const failedId = await queueWithFailedJob(c, q);
  const waiting = await c.enqueueJob(q, 'later', {}, { delayMs: 600_000 });

  for (const body of [{}, { targetWorkers: '2' }, { targetWorkers: -1 }, { targetWorkers: 1.5 }, { targetWorkers: 5000 }, { targetWorkers: 2, extra: 1 }, [2], '{"targetWorkers":', undefined]) {
    const r = await call('POST', `/queues/${q}/scale`, { token, body, headers: body === undefined ? { 'content-type': 'application/json' } : {} });
    assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${r.text}`);
    assert.ok(['ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY'].includes(r.json.code), r.text);
  }
  const typed = await call('POST', `/queues/${q}/scale`, { token, body: { targetWorkers: '2' } });
  assert.deepEqual([typed.json.code, typed.json.field], ['ERR_VALIDATION', 'targetWorkers']);
  assert.equal(c.getWorkers(q).length, 1, 'no worker started or stopped');
  const form = await call('POST', `/queues/${q}/scale`, { token, body: 'targetWorkers=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.deepEqual([form.status, form.json.code], [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE']);

  for (const query of ['limit=0', 'limit=abc', 'start=-1', 'page=2']) {
    const r = await call('GET', `/queues/${q}/failed?${query}`, { token });
    assert.deepEqual([r.status, r.json.code], [400, 'ERR_VALIDATION'], query);
  }
  const paged = await call('GET', `/queues/${q}/failed?start=1&limit=5`, { token });
  assert.deepEqual([paged.json.start, paged.json.limit, paged.json.total, paged.json.jobs.length], [1, 5, 1, 0]);

  const colon = await call('POST', `/queues/${encodeURIComponent('a:b')}/pause`, { token });
  assert.deepEqual([colon.status, colon.json.code, colon.json.field], [400, 'ERR_VALIDATION', 'queueName']);

  // unknown queue: 404 on every route, and no key of it appears
  for (const [method, path, body] of [
    ['GET', '/queues/nope'],
    ['GET', '/queues/nope/health'],
    ['GET', '/queues/nope/failed'],
    ['POST', '/queues/nope/pause'],
    ['POST', '/queues/nope/resume'],
    ['POST', '/queues/nope/scale', { targetWorkers: 1 }],
    ['POST', '/queues/nope/failed/1/requeue'],
  ]) {
    const r = await call(method, path, { token, body });
    assert.deepEqual([r.status, r.json.code], [404, 'ERR_QUEUE_NOT_FOUND'], `${method} ${path}`);
  }
  assert.deepEqual(await redis().keys(`${prefix}:nope*`), []);

  const noJob = await call('POST', `/queues/${q}/failed/999999/requeue`, { token });
  assert.deepEqual([noJob.status, noJob.json.code], [404, 'ERR_JOB_NOT_FOUND']);
  const notFailed = await call('POST', `/queues/${q}/failed/${waiting.id}/requeue`, { token });
  assert.deepEqual([notFailed.status, notFailed.json.code], [409, 'ERR_JOB_NOT_IN_STATE']);
  assert.equal(await (await c.getJob(q, waiting.id)).getState(), 'delayed');
  assert.equal((await c.getJob(q, failedId)).failedReason, 'bad input');

  const unknown = await call('GET', '/nothing-here', { token });
  assert.deepEqual([unknown.status, unknown.json.code], [404, 'ERR_NOT_FOUND']);
  assert.equal((await call('GET', '/nothing-here')).status, 401, 'without a token, an unknown path is not revealed');

  // an empty JSON body is no body
  const empty = await call('POST', `/queues/${q}/pause`, { token, headers: { 'content-type': 'application/json' } });
  assert.equal(empty.status, 200);
});

test('/health is open; /ready pings Redis (200), and answers 503 quickly when Redis is not there', { timeout: 30000 }, async (t) => {
  const auth = { jwtSecret: 'v'.repeat(32) };
  const { call } = await startAdmin(t, { auth });
  const health = await call('GET', '/health');
  assert.deepEqual([health.status, health.json.status], [200, 'ok']);
  const ready = await call('GET', '/ready');
  assert.equal(ready.status, 200);
  assert.equal(ready.json.status, 'ready');
  assert.ok(ready.json.redis.latencyMs >= 0);

  const dead = new JobQueueCoordinator({ redis: { url: `redis://127.0.0.1:${await freePort()}`, maxRetriesPerRequest: 0 } });
  const admin = await createAdminServer(dead, { port: 0, auth, readyTimeoutMs: 500 });
  t.after(() => admin.close());
  const started = Date.now();
  const res = await fetch(`${admin.url}/ready`);
  assert.equal(res.status, 503);
  assert.equal((await res.json()).status, 'not_ready');
  assert.ok(Date.now() - started < 3000);
  assert.equal((await fetch(`${admin.url}/health`)).status, 200, 'liveness does not depend on Redis');
});

test('/metrics is the Prometheus text exposition', { timeout: 30000 }, async (t) => {
  const secret = 'u'.repeat(32);
  const { c, call } = await startAdmin(t, { auth: { jwtSecret: secret } });
  await c.enqueueJob('m', 'a', {});
  const r = await call('GET', '/metrics', { token: await signed({ scope: READ }, { alg: 'HS256' }, new TextEncoder().encode(secret)) });
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(r.text, /^# TYPE queue_jobs_waiting gauge$/m);
  assert.match(r.text, /^queue_jobs_waiting\{queue="m"\} 1$/m);
});

test('createAdminServer refuses bad options with a ValidationError naming the field', async () => {
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL } });
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cases = [
    [{ port: 0 }, 'auth'],
    [{ port: 0, auth: {} }, 'auth'],
    [{ port: 0, auth: { jwtSecret: 'x'.repeat(32), jwksUrl: 'https://id.example/jwks' } }, 'auth'],
    [{ port: 0, auth: { jwtSecret: 'short' } }, 'auth.jwtSecret'],
    [{ port: 0, auth: { publicKey: 'not a key' } }, 'auth.publicKey'],
    [{ port: 0, auth: { publicKey: pair.privateKey } }, 'auth.publicKey'],
    [{ port: 0, auth: { jwksUrl: 'ftp://id.example/jwks' } }, 'auth.jwksUrl'],
    [{ port: 0, auth: { jwtSecret: 'x'.repeat(32), algorithms: ['RS256'] } }, 'auth.algorithms'],
    [{ port: 0, auth: { jwtSecret: 'x'.repeat(32), issuer: 7 } }, 'auth.issuer'],
    [{ port: 70000, auth: { jwtSecret: 'x'.repeat(32) } }, 'port'],
    [{ port: 0, host: '', auth: { jwtSecret: 'x'.repeat(32) } }, 'host'],
  ];
  for (const [options, field] of cases) {
    await assert.rejects(createAdminServer(c, options), (err) => err instanceof ValidationError && err.field === field && err.code === 'ERR_VALIDATION', JSON.stringify(options));
  }
  await assert.rejects(createAdminServer({}, { auth: { jwtSecret: 'x'.repeat(32) } }), (err) => err instanceof ValidationError && err.field === 'coordinator');
  await c.shutdown();
});

test('adminOptionsFromEnv reads PORT, ADMIN_HOST and the ADMIN_JWT_* variables', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pemText = publicKey.export({ type: 'spki', format: 'pem' });
  assert.deepEqual(adminOptionsFromEnv({ PORT: '8080', ADMIN_JWT_SECRET: 's', ADMIN_JWT_ISSUER: 'i', ADMIN_JWT_AUDIENCE: 'a' }), {
    host: '127.0.0.1',
    port: 8080,
    auth: { jwtSecret: 's', issuer: 'i', audience: 'a' },
  });
  // a PEM with its newlines written as \n (as in a one-line variable)
  const oneLine = pemText.replace(/\n/g, '\\n');
  assert.equal(adminOptionsFromEnv({ ADMIN_JWT_PUBLIC_KEY: oneLine }).auth.publicKey, pemText);
  assert.deepEqual(adminOptionsFromEnv({ ADMIN_JWKS_URL: 'https://id.example/jwks', ADMIN_HOST: '0.0.0.0' }), { host: '0.0.0.0', port: 3000, auth: { jwksUrl: 'https://id.example/jwks' } });
  assert.throws(() => adminOptionsFromEnv({ PORT: 'eighty' }), (err) => err instanceof ValidationError && err.field === 'PORT');
  assert.throws(() => adminOptionsFromEnv({ ADMIN_JWT_PUBLIC_KEY: '/no/such/file.pem' }), (err) => err instanceof ValidationError && err.field === 'ADMIN_JWT_PUBLIC_KEY');
});
