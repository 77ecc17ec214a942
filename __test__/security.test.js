'use strict';
// The security manager (coordinator.securityManager) against a real Redis: sanitising and the
// content rules at enqueue, per-queue JSON Schemas, the checks before every attempt (age,
// per-client rate limits), per-client rate limiting shared by two coordinators, and the audit
// log's entries for each admin action. Bad input is a typed error and writes nothing.
const test = require('node:test');
const assert = require('node:assert');
const { ValidationError, SecurityError, RateLimitError } = require('..');
const { setupCoordinators, prefixKey, waitFor } = require('./helpers');

const QUIET = { monitoring: { metricsCollection: { enabled: false }, healthChecks: { enabled: false } } };

/** Every key of the prefix, sorted. */
async function keysOf(redis, prefix) {
  return (await redis.keys(`${prefix}:*`)).sort();
}

test('enqueue drops __proto__, constructor and prototype keys at any depth; the caller keeps its object', async (t) => {
  const { c, prefix, redis } = setupCoordinators(t, 'sec-sanitize', QUIET);
  const data = JSON.parse(
    '{"a":1,"__proto__":{"polluted":true},"nested":{"constructor":{"prototype":{"x":1}},"keep":[{"prototype":2,"b":3}]},"list":[{"__proto__":{"y":1}}]}',
  );
  const job = await c.enqueueJob('q', 'j', data);
  const expected = { a: 1, nested: { keep: [{ b: 3 }] }, list: [{}] };
  assert.deepStrictEqual(job.data, expected, 'the job handed back carries the sanitised data');
  const stored = JSON.parse(await redis().hget(`${prefix}:q:${job.id}`, 'data'));
  assert.deepStrictEqual(stored, expected, 'Redis never sees the keys');
  assert.ok(Object.prototype.hasOwnProperty.call(data, '__proto__'), 'the caller’s object is left as it was');
  assert.strictEqual({}.polluted, undefined);

  // sanitizeJobInput on its own: a copy, nested arrays included; non-objects as given
  const copy = c.securityManager.sanitizeJobInput(data);
  assert.notStrictEqual(copy, data);
  assert.deepStrictEqual(copy, expected);
  assert.strictEqual(c.securityManager.sanitizeJobInput(7), 7);
  assert.deepStrictEqual(c.securityManager.sanitizeJobInput([{ constructor: 1, a: 2 }]), [{ a: 2 }]);
});

test('the content rules refuse a job with a SecurityError listing every rule broken, and write nothing; off with enableJobValidation false', async (t) => {
  const { c, make, prefix, redis } = setupCoordinators(t, 'sec-content', QUIET);
  const r = redis();
  await c.enqueueJob('q', 'ok', { note: 'a condition=1 and onboarding' }); // words, not handlers
  const before = await keysOf(r, prefix);
  const id = await r.get(`${prefix}:q:id`);
  await assert.rejects(
    c.enqueueJob('q', 'bad', { html: '<script>alert(1)</script>', link: 'javascript:void(0)', img: '<img onerror = x>', code: 'eval (x)' }),
    (err) => {
      assert.ok(err instanceof SecurityError, String(err));
      assert.strictEqual(err.code, 'ERR_SECURITY');
      assert.deepStrictEqual(
        err.violations.map((v) => v.rule),
        ['script_tag', 'javascript_url', 'event_handler', 'eval'],
      );
      return true;
    },
  );
  await assert.rejects(c.enqueueBulk('q', [{ name: 'a', data: {} }, { name: 'b', data: { s: 'x.constructor.prototype.y' } }]), SecurityError);
  await assert.rejects(c.securityManager.validateJobData('q', 'x', { s: '<script>a</script>' }), SecurityError);
  assert.deepStrictEqual(await keysOf(r, prefix), before, 'nothing written');
  assert.strictEqual(await r.get(`${prefix}:q:id`), id, 'no id taken');

  const lenient = make({ ...QUIET, security: { enableJobValidation: false } });
  const job = await lenient.enqueueJob('q', 'html', { html: '<script>x</script>' });
  assert.strictEqual(job.data.html, '<script>x</script>');
});

test('validateJobData checks format, size, content and the schema without writing', async (t) => {
  const { c, prefix, redis } = setupCoordinators(t, 'sec-validate', { ...QUIET, security: { maxJobDataSize: 64 } });
  const s = c.securityManager;
  await s.validateJobData('q', 'j', { small: true });
  await assert.rejects(s.validateJobData('q', 'j', 'text'), (err) => err instanceof ValidationError && err.field === 'data');
  await assert.rejects(s.validateJobData('q', 'j', { big: 'x'.repeat(100) }), (err) => err instanceof ValidationError && /over the limit of 64/.test(err.message));
  await assert.rejects(s.validateJobData('q', 'j', { a: 'javascript:1' }), SecurityError);
  await assert.rejects(s.validateJobData('bad:name', 'j', {}), ValidationError);
  assert.deepStrictEqual(await keysOf(redis(), prefix), []);
});

test("a queue's JSON Schemas are checked at every enqueue: the error lists every violation and nothing is written", async (t) => {
  const { c, prefix, redis } = setupCoordinators(t, 'sec-schema', QUIET);
  const r = redis();
  await c.createQueue({
    name: 'orders',
    schema: {
      type: 'object',
      required: ['orderId', 'email'],
      properties: { orderId: { type: 'integer', minimum: 1 }, email: { type: 'string', format: 'email' } },
    },
    jobSchemas: { refund: { type: 'object', required: ['amount'], properties: { amount: { type: 'number', exclusiveMinimum: 0 } } } },
  });
  const before = await keysOf(r, prefix);
  await assert.rejects(c.enqueueJob('orders', 'ship', { orderId: 0, email: 'nope' }), (err) => {
    assert.ok(err instanceof ValidationError);
    assert.strictEqual(err.field, 'data');
    assert.deepStrictEqual(err.violations.map((v) => [v.path, v.keyword]), [
      ['/orderId', 'minimum'],
      ['/email', 'format'],
    ]);
    return true;
  });
  // the job-name schema applies on top of the queue's
  await assert.rejects(c.enqueueJob('orders', 'refund', { orderId: 1, email: 'a@b.co', amount: -5 }), (err) => {
    assert.deepStrictEqual(err.violations.map((v) => v.keyword), ['exclusiveMinimum']);
    return true;
  });
  await assert.rejects(c.enqueueBulk('orders', [{ name: 'ship', data: { orderId: 1, email: 'a@b.co' } }, { name: 'ship', data: {} }]), ValidationError);
  await assert.rejects(c.scheduleRecurringJob('orders', 'ship', {}, '0 * * * *'), ValidationError);
  assert.deepStrictEqual(await keysOf(r, prefix), before, 'nothing written by the refused adds');

  const ok = await c.enqueueJob('orders', 'ship', { orderId: 1, email: 'a@b.co' });
  assert.ok(ok.id);
  assert.ok(await c.enqueueJob('orders', 'refund', { orderId: 2, email: 'a@b.co', amount: 3 }));
  // other queues are not affected
  assert.ok(await c.enqueueJob('other', 'x', { anything: true }));

  // a schema that does not compile: refused before anything is written
  const keys = await keysOf(r, prefix);
  await assert.rejects(c.createQueue({ name: 'broken', schema: { type: 'no-such-type' } }), (err) => err instanceof ValidationError && err.field === 'schema');
  await assert.rejects(c.createQueue({ name: 'broken', jobSchemas: { a: 'not a schema' } }), (err) => err instanceof ValidationError && err.field === 'jobSchemas.a');
  assert.deepStrictEqual(await keysOf(r, prefix), keys);
  assert.strictEqual(await r.hexists(prefixKey(prefix, 'queues'), 'broken'), 0);
  // destroying the queue forgets its schema
  await c.destroyQueue('orders');
  assert.ok(await c.enqueueJob('orders', 'ship', { free: 'form' }));
});

test('a job older than maxJobAge fails at once with SecurityError, without retries; age counts from when it was due; 0 turns it off', async (t) => {
  const { c, make } = setupCoordinators(t, 'sec-age', { ...QUIET, security: { maxJobAge: 60_000 } });
  const ran = [];
  const failed = [];
  const w = await c.registerWorker('q', async (job) => ran.push(job.data.n), { concurrency: 1 });
  w.on('failed', (job, err, _prev, info) => failed.push({ n: job?.data.n, name: err.name, retrying: info.retrying }));
  const hourAgo = Date.now() - 3600_000;
  const old = await c.enqueueJob('q', 'j', { n: 'old' }, { timestamp: hourAgo, attempts: 3 });
  // added an hour ago but delayed until 10 s ago: due recently, so young enough
  await c.enqueueJob('q', 'j', { n: 'due' }, { timestamp: hourAgo, delay: 3600_000 - 10_000, attempts: 3 });
  await c.enqueueJob('q', 'j', { n: 'fresh' });
  await waitFor(() => ran.length === 2 && failed.length === 1, { message: 'two runs and one failure' });
  assert.deepStrictEqual(ran.sort(), ['due', 'fresh']);
  assert.deepStrictEqual(failed, [{ n: 'old', name: 'SecurityError', retrying: false }]);
  const stored = await c.getJob('q', old.id);
  assert.strictEqual(await stored.getState(), 'failed');
  assert.strictEqual(stored.attemptsMade, 1, 'one attempt, no retry');
  assert.match(stored.failedReason, /too old to process/);

  const off = make({ ...QUIET, security: { maxJobAge: 0 } });
  const done = [];
  await off.registerWorker('q2', async (job) => done.push(job.id));
  const ancient = await off.enqueueJob('q2', 'j', { n: 1 }, { timestamp: 1 });
  await waitFor(() => done.includes(ancient.id));
});

test('validateJobExecution on its own: age, then the client rate limit per attempt', async (t) => {
  const { c } = setupCoordinators(t, 'sec-exec', { ...QUIET, security: { maxJobAge: 1000, rateLimiting: { maxJobsPerMinute: 1 } } });
  const s = c.securityManager;
  const job = (extra) => ({ id: '1', name: 'j', queueName: 'q', timestamp: Date.now(), opts: {}, data: {}, ...extra });
  await s.validateJobExecution(job(), { workerId: 'w' });
  await assert.rejects(s.validateJobExecution(job({ timestamp: Date.now() - 5000 }), {}), (err) => err instanceof SecurityError && err.violations[0].rule === 'max_job_age');
  await s.validateJobExecution(job({ opts: { clientId: 'acme' } }), {});
  await assert.rejects(s.validateJobExecution(job({ data: { _metadata: { clientId: 'acme' } } }), {}), (err) => {
    assert.ok(err instanceof RateLimitError);
    assert.strictEqual(err.clientId, 'acme');
    assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 60_000);
    return true;
  });
});

test('the per-client rate limit holds across two coordinators; over it an enqueue is a RateLimitError with retryAfterMs and writes nothing', async (t) => {
  const config = { ...QUIET, security: { rateLimiting: { enabled: true, maxJobsPerMinute: 3 } } };
  const { c, make, prefix, redis } = setupCoordinators(t, 'sec-rate', config);
  const other = make(config);
  const r = redis();
  await c.enqueueJob('q', 'a', { n: 1 }, { clientId: 'acme' });
  await other.enqueueJob('q', 'a', { n: 2, _metadata: { clientId: 'acme' } });
  await c.enqueueBulk('q', [{ name: 'a', data: { n: 3 }, options: { clientId: 'acme' } }, { name: 'a', data: { n: 4 }, options: { clientId: 'globex' } }]);
  const waiting = await r.llen(`${prefix}:q:wait`);
  assert.strictEqual(waiting, 4);
  const id = await r.get(`${prefix}:q:id`);
  for (const attempt of [
    () => other.enqueueJob('q', 'a', { n: 5 }, { clientId: 'acme' }),
    () => c.enqueueJob('q', 'a', { n: 6, _metadata: { clientId: 'acme' } }),
    () => c.enqueueBulk('q', [{ name: 'a', data: {}, options: { clientId: 'globex' } }, { name: 'a', data: {}, options: { clientId: 'acme' } }]),
  ]) {
    await assert.rejects(attempt(), (err) => {
      assert.ok(err instanceof RateLimitError, String(err));
      assert.strictEqual(err.code, 'ERR_RATE_LIMIT');
      assert.strictEqual(err.clientId, 'acme');
      assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 60_000, `retryAfterMs ${err.retryAfterMs}`);
      return true;
    });
  }
  assert.strictEqual(await r.get(`${prefix}:q:id`), id, 'no job id taken');
  assert.strictEqual(await r.llen(`${prefix}:q:wait`), waiting);
  assert.strictEqual(await r.get(prefixKey(prefix, 'rate:enqueue:globex')), '1', "the refused bulk counted nothing for globex either");
  // jobs without a client id are not limited; another client has its own window
  await c.enqueueJob('q', 'a', { n: 7 });
  await c.enqueueJob('q', 'a', { n: 8 }, { clientId: 'globex' });
  // a bulk larger than the whole limit can never fit
  await assert.rejects(c.enqueueBulk('q', Array.from({ length: 4 }, () => ({ name: 'a', data: {}, options: { clientId: 'initech' } }))), (err) => err instanceof RateLimitError && err.retryAfterMs === null);
  // a bad client id is a ValidationError
  await assert.rejects(c.enqueueJob('q', 'a', {}, { clientId: '' }), (err) => err instanceof ValidationError && err.field === 'options.clientId');
  await assert.rejects(c.enqueueJob('q', 'a', { _metadata: { clientId: 5 } }), (err) => err instanceof ValidationError && err.field === 'data._metadata.clientId');

  // checkClientRateLimit counts one and says what is left
  const decision = await c.securityManager.checkClientRateLimit('hooli');
  assert.deepStrictEqual(decision, { allowed: true, retryAfterMs: 0, remaining: 2 });
  assert.strictEqual((await c.securityManager.checkClientRateLimit('hooli', { cost: 3 })).allowed, false);
  await assert.rejects(c.securityManager.checkClientRateLimit('hooli', { cost: 0 }), ValidationError);
  await assert.rejects(c.securityManager.checkClientRateLimit('hooli', { scope: 'a b' }), ValidationError);

  // rate limiting off: nothing counted
  const open = make({ ...QUIET, security: { rateLimiting: { enabled: false, maxJobsPerMinute: 1 } } });
  for (let i = 0; i < 3; i++) await open.enqueueJob('q', 'a', {}, { clientId: 'acme' });
});

test("a client's jobs over its limit per attempt wait in delayed until its window ends, without using an attempt", async (t) => {
  const producerConfig = { ...QUIET, security: { rateLimiting: { enabled: false } } };
  const { c: producer, make } = setupCoordinators(t, 'sec-run-rate', producerConfig);
  const worker = make({ ...QUIET, security: { rateLimiting: { enabled: true, maxJobsPerMinute: 2 } } });
  const ran = [];
  await worker.registerWorker('q', async (job) => ran.push(job.data.n), { concurrency: 1 });
  const jobs = [];
  for (let n = 1; n <= 3; n++) jobs.push(await producer.enqueueJob('q', 'a', { n }, { clientId: 'acme' }));
  await waitFor(async () => ran.length === 2 && (await producer.getJob('q', jobs[2].id)).delay > 0, { message: 'two runs, the third delayed' });
  const third = await producer.getJob('q', jobs[2].id);
  assert.strictEqual(await third.getState(), 'delayed');
  assert.strictEqual(third.attemptsMade, 0, 'no attempt used');
  assert.ok(third.delay > 0 && third.delay <= 60_000);
  assert.deepStrictEqual(ran, [1, 2]);
});

test('the audit log has an entry for each admin action, read back with filters; bad input writes nothing', async (t) => {
  const { c, prefix, redis } = setupCoordinators(t, 'sec-audit', { ...QUIET, security: { auditEnqueues: true } });
  const s = c.securityManager;
  const t0 = Date.now();
  await c.createQueue('q', {});
  const added = await c.enqueueJob('q', 'a', { n: 1 }, { clientId: 'acme', attempts: 1 });
  const [bulk] = await c.enqueueBulk('q', [{ name: 'b', data: {}, options: { attempts: 1 } }]);
  const failBoth = async () => {
    const w = await c.registerWorker('q', async () => {
      throw new Error('boom');
    });
    await waitFor(async () => (await c.getFailedJobs('q')).length === 2, { message: 'both jobs failed' });
    await w.close();
  };
  await failBoth();
  assert.strictEqual(await c.retryJob('q', added.id), true);
  assert.strictEqual(await c.retryJob('q', 'nope'), false, 'nothing retried: no entry');
  await c.requeueFailedJob('q', bulk.id);
  await c.pauseQueue('q');
  await c.pauseQueue('q'); // paused already: changes nothing, no entry
  await c.resumeQueue('q');
  await failBoth();
  await c.archiveFailedJob('q', bulk.id);
  assert.strictEqual(await c.purgeFailedJobs('q'), 1);
  await c.registerWorker('q', async () => {});
  await c.scaleWorkers('q', 2);
  await c.scaleWorkers('q', 0);
  await c.scaleWorkers('q', 0); // none left: no entry
  await c.destroyQueue('q');
  for (let i = 0; i < 2; i++) await c.accessControl.grant('ops', { resource: 'q', actions: ['view'] }); // the second changes nothing
  for (let i = 0; i < 2; i++) await c.accessControl.revoke('ops', 'q');
  await s.auditJobActivity({ queue: 'q', id: 7 }, 'inspect', { actor: 'ops', outcome: 'success', ticket: 'T-1' });
  await s.auditJobActivity(added, 'note');

  const log = await s.getAuditLog({ since: t0, limit: 100 });
  const seen = log.map((e) => `${e.action}:${e.queue ?? ''}:${e.jobId ?? ''}:${e.actor}:${e.outcome}`).reverse();
  assert.deepStrictEqual(seen, [
    'create:q::system:success',
    `enqueue:q:${added.id}:acme:success`,
    `enqueue:q:${bulk.id}:system:success`,
    `retry:q:${added.id}:system:success`,
    `requeue:q:${bulk.id}:system:success`,
    'pause:q::system:success',
    'resume:q::system:success',
    `archive:q:${bulk.id}:system:success`,
    'purge:q::system:success',
    'scale:q::system:success',
    'scale:q::system:success',
    'destroy:q::system:success',
    'grant:::system:success',
    'revoke:::system:success',
    'inspect:q:7:ops:success',
    `note:q:${added.id}:system:success`,
  ]);
  const purge = log.find((e) => e.action === 'purge');
  assert.deepStrictEqual(purge.metadata, { count: 1 });
  assert.ok(purge.timestamp instanceof Date && purge.timestamp.getTime() >= t0);
  assert.match(purge.origin, /:\d+$/);
  assert.deepStrictEqual(log.find((e) => e.action === 'inspect').metadata, { ticket: 'T-1' });
  assert.deepStrictEqual(log.filter((e) => e.action === 'scale').map((e) => [e.metadata.from, e.metadata.to]), [[2, 0], [1, 2]]);

  // filters
  assert.deepStrictEqual((await s.getAuditLog({ actor: 'acme' })).map((e) => e.action), ['enqueue']);
  assert.deepStrictEqual((await s.getAuditLog({ action: 'scale', limit: 1 })).length, 1);
  assert.strictEqual((await s.getAuditLog({ queue: 'nope' })).length, 0);
  assert.strictEqual((await s.getAuditLog({ until: t0 - 1 })).length, 0);

  // bad input: typed errors, nothing written
  const len = await redis().xlen(prefixKey(prefix, 'audit'));
  await assert.rejects(s.getAuditLog({ limit: 0 }), ValidationError);
  await assert.rejects(s.getAuditLog({ since: 'yesterday' }), ValidationError);
  await assert.rejects(s.auditJobActivity(null, 'x'), ValidationError);
  await assert.rejects(s.auditJobActivity({ queue: 'q' }, ''), ValidationError);
  await assert.rejects(s.auditJobActivity({ queue: 'q' }, 'x', 'meta'), ValidationError);
  await assert.rejects(s.auditJobActivity({ queue: 'bad:q' }, 'x'), ValidationError);
  await assert.rejects(c.requeueFailedJob('q', 'missing'), Error);
  assert.strictEqual(await redis().xlen(prefixKey(prefix, 'audit')), len);
});

test('with enableAuditLogging off nothing is written to the audit log', async (t) => {
  const { c, prefix, redis } = setupCoordinators(t, 'sec-noaudit', { ...QUIET, security: { enableAuditLogging: false, auditEnqueues: true } });
  await c.enqueueJob('q', 'a', {});
  await c.pauseQueue('q');
  await c.securityManager.auditJobActivity({ queue: 'q', id: 1 }, 'x');
  assert.strictEqual(await redis().exists(prefixKey(prefix, 'audit')), 0);
  assert.deepStrictEqual(await c.securityManager.getAuditLog(), []);
});

test('bad security settings are ValidationErrors at construction', () => {
  const { JobQueueCoordinator } = require('..');
  for (const [security, field] of [
    [{ maxJobAge: -1 }, 'security.maxJobAge'],
    [{ rateLimiting: { maxJobsPerMinute: 0 } }, 'security.rateLimiting.maxJobsPerMinute'],
    [{ rateLimiting: { windowMs: 1.5 } }, 'security.rateLimiting.windowMs'],
    [{ enableAuditLogging: 'yes' }, 'security.enableAuditLogging'],
    [{ auditLogMaxLength: 0 }, 'security.auditLogMaxLength'],
    [{ accessControl: { defaultPolicy: 'maybe' } }, 'security.accessControl.defaultPolicy'],
  ]) {
    assert.throws(() => new JobQueueCoordinator({ security }), (err) => err instanceof ValidationError && err.field === field, field);
  }
});
