'use strict';
// The access control (coordinator.accessControl) and coordinator.forClient(id) against a real
// Redis: permissions stored once and enforced by every coordinator, the design's conditions,
// the default policy for clients without permissions, denials as AuthorizationError (code
// ERR_FORBIDDEN) that write nothing but their audit entry, and workers running as a client.
const test = require('node:test');
const assert = require('node:assert');
const { ValidationError, AuthorizationError } = require('..');
const { setupCoordinators, prefixKey, waitFor } = require('./helpers');

const QUIET = {
  monitoring: { metricsCollection: { enabled: false }, healthChecks: { enabled: false } },
  security: { accessControl: { cacheMs: 0 } },
};

const isForbidden = (action) => (err) => {
  assert.ok(err instanceof AuthorizationError, String(err));
  assert.strictEqual(err.code, 'ERR_FORBIDDEN');
  if (action) assert.strictEqual(err.action, action);
  return true;
};

test('grant, getClientPermissions and revoke: stored in Redis, merged by resource and conditions; bad permissions write nothing', async (t) => {
  const { c, make, prefix, redis } = setupCoordinators(t, 'acl-store', QUIET);
  const a = c.accessControl;
  assert.deepStrictEqual(await a.getClientPermissions('alice'), []);
  assert.strictEqual(await a.grant('alice', { resource: 'orders', actions: ['enqueue', 'view'] }), 2);
  assert.strictEqual(await a.grant('alice', { resource: 'orders', actions: ['view', 'view'] }), 0, 'kept as it was');
  await a.grant('alice', { resource: 'reports-*', actions: ['manage'], conditions: [{ field: 'jobType', operator: 'in', value: ['daily'] }] });
  const other = make(QUIET);
  assert.deepStrictEqual(await other.accessControl.getClientPermissions('alice'), [
    { resource: 'orders', actions: ['enqueue', 'view'], conditions: [] },
    { resource: 'reports-*', actions: ['manage'], conditions: [{ field: 'jobType', operator: 'in', value: ['daily'] }] },
  ]);
  assert.strictEqual(await a.revoke('alice', 'orders', ['enqueue']), 1);
  assert.strictEqual(await a.revoke('alice', 'reports-*'), 1);
  assert.deepStrictEqual(await other.accessControl.getClientPermissions('alice'), [{ resource: 'orders', actions: ['view'], conditions: [] }]);

  const r = redis();
  const key = prefixKey(prefix, 'acl:bob');
  for (const [args, field] of [
    [['', { resource: 'q', actions: ['view'] }], 'clientId'],
    [['bob', null], 'permission'],
    [['bob', { resource: '', actions: ['view'] }], 'permission.resource'],
    [['bob', { resource: 'q', actions: [] }], 'permission.actions'],
    [['bob', { resource: 'q', actions: ['read'] }], 'permission.actions'],
    [['bob', { resource: 'q', actions: ['view'], conditions: {} }], 'permission.conditions'],
    [['bob', { resource: 'q', actions: ['view'], conditions: [{ field: 'jobType', operator: 'like', value: 'a' }] }], 'permission.conditions[0].operator'],
    [['bob', { resource: 'q', actions: ['view'], conditions: [{ field: 'jobType', operator: 'in', value: 'a' }] }], 'permission.conditions[0].value'],
  ]) {
    await assert.rejects(a.grant(...args), (err) => err instanceof ValidationError && err.field === field, field);
  }
  await assert.rejects(a.revoke('bob', 'q', ['read']), ValidationError);
  assert.strictEqual(await r.exists(key), 0, 'nothing written for bob');
});

test("the design's conditions on the job type and data, resource patterns, and manage including view", async (t) => {
  const { c } = setupCoordinators(t, 'acl-rules', QUIET);
  const a = c.accessControl;
  await a.grant('svc', { resource: 'photos', actions: ['enqueue'], conditions: [{ field: 'jobType', operator: 'in', value: ['resize', 'crop'] }] });
  await a.grant('svc', { resource: 'photos', actions: ['enqueue'], conditions: [{ field: 'data.tenant', operator: 'equals', value: 'acme' }, { field: 'jobType', operator: 'not_in', value: ['delete'] }] });
  await a.grant('svc', { resource: 'report-*', actions: ['manage'] });
  await a.grant('svc', { resource: 'audit', actions: ['view'], conditions: [{ field: 'queue', operator: 'equals', value: 'audit' }] });

  assert.strictEqual(await a.canEnqueueJob('svc', 'photos', 'resize'), true);
  assert.strictEqual(await a.canEnqueueJob('svc', 'photos', 'watermark'), false, 'not in the list, no data');
  assert.strictEqual(await a.canEnqueueJob('svc', 'photos', 'watermark', { tenant: 'acme' }), true, 'the second permission');
  assert.strictEqual(await a.canEnqueueJob('svc', 'photos', 'delete', { tenant: 'acme' }), false, 'not_in');
  assert.strictEqual(await a.canEnqueueJob('svc', 'photos', 'watermark', { tenant: 'globex' }), false);
  assert.strictEqual(await a.canEnqueueJob('svc', 'videos', 'resize'), false, 'another queue');
  assert.strictEqual(await a.canViewQueue('svc', 'photos'), false, 'enqueue does not include view');
  assert.strictEqual(await a.canManageQueue('svc', 'report-daily'), true, 'pattern');
  assert.strictEqual(await a.canViewQueue('svc', 'report-daily'), true, 'manage includes view');
  assert.strictEqual(await a.canManageQueue('svc', 'reports'), false);
  assert.strictEqual(await a.canViewQueue('svc', 'audit'), true, 'a condition on the queue holds');
  assert.strictEqual(await a.canProcessQueue('svc', 'photos'), false);
  await a.grant('svc', { resource: '*', actions: ['process'] });
  assert.strictEqual(await a.canProcessQueue('svc', 'anything'), true);
  await assert.rejects(a.canViewQueue('svc', 'bad:name'), ValidationError);
  await assert.rejects(a.canViewQueue('', 'q'), ValidationError);
});

test('a client without stored permissions follows defaultPolicy: allow by default, deny when configured', async (t) => {
  const { c, make } = setupCoordinators(t, 'acl-default', QUIET);
  assert.strictEqual(await c.accessControl.canManageQueue('stranger', 'q'), true);
  const strict = make({ ...QUIET, security: { accessControl: { defaultPolicy: 'deny', cacheMs: 0 } } });
  assert.strictEqual(await strict.accessControl.canViewQueue('stranger', 'q'), false);
  await c.accessControl.grant('stranger', { resource: 'q', actions: ['view'] });
  assert.strictEqual(await strict.accessControl.canViewQueue('stranger', 'q'), true);
  // once it has any permission, the rest is denied under either policy
  assert.strictEqual(await c.accessControl.canManageQueue('stranger', 'q'), false);
});

test('forClient: enqueue, view and manage calls are checked; a denial writes nothing but its audit entry', async (t) => {
  const { c, make, prefix, redis } = setupCoordinators(t, 'acl-view', QUIET);
  const r = redis();
  await c.accessControl.grant('web', { resource: 'emails', actions: ['enqueue'], conditions: [{ field: 'jobType', operator: 'equals', value: 'welcome' }] });
  await c.accessControl.grant('web', { resource: 'emails', actions: ['view'] });
  const web = c.forClient('web');
  assert.strictEqual(web.clientId, 'web');
  const job = await web.enqueueJob('emails', 'welcome', { to: 'a@b.co' });
  assert.strictEqual(job.opts.clientId, 'web', 'the job carries the client');
  assert.strictEqual((await c.getJob('emails', job.id)).opts.clientId, 'web');
  assert.strictEqual((await web.getQueueStatus('emails')).jobCounts.waiting, 1);
  assert.strictEqual((await web.getJob('emails', job.id)).id, job.id);

  const keys = (await r.keys(`${prefix}:emails:*`)).sort();
  const id = await r.get(`${prefix}:emails:id`);
  await assert.rejects(web.enqueueJob('emails', 'reset', { to: 'a@b.co' }), isForbidden('enqueue'));
  await assert.rejects(web.enqueueJob('emails', { type: 'reset' }), isForbidden('enqueue'));
  await assert.rejects(web.enqueueBulk('emails', [{ name: 'welcome', data: {} }, { name: 'reset', data: {} }]), isForbidden('enqueue'));
  await assert.rejects(web.scheduleJob('emails', 'reset', {}), isForbidden('enqueue'));
  await assert.rejects(web.scheduleRecurringJob('emails', 'reset', {}, '0 * * * *'), isForbidden('enqueue'));
  await assert.rejects(web.enqueueJob('orders', 'welcome', {}), isForbidden('enqueue'));
  await assert.rejects(web.pauseQueue('emails'), isForbidden('manage'));
  await assert.rejects(web.retryJob('emails', job.id), isForbidden('manage'));
  await assert.rejects(web.purgeFailedJobs('emails'), isForbidden('manage'));
  await assert.rejects(web.createQueue('emails2', {}), isForbidden('manage'));
  await assert.rejects(web.getQueueStatus('orders'), isForbidden('view'));
  await assert.rejects(web.enqueueJob('emails', 'welcome', {}, { clientId: 'admin' }), isForbidden('impersonate'));
  await assert.rejects(web.retryJob(job.id), ValidationError);
  assert.deepStrictEqual((await r.keys(`${prefix}:emails:*`)).sort(), keys, 'nothing written to the queue');
  assert.strictEqual(await r.get(`${prefix}:emails:id`), id);
  assert.strictEqual(await r.hget(`${prefix}:emails:meta`, 'paused'), null, 'not paused');

  const denials = await c.securityManager.getAuditLog({ actor: 'web' });
  assert.ok(denials.length >= 10);
  assert.ok(denials.every((e) => e.outcome === 'denied'));
  assert.deepStrictEqual(denials.at(-1), { ...denials.at(-1), action: 'enqueue', queue: 'emails', metadata: { jobType: 'reset' } });

  // what the client does is audited under its name
  await c.accessControl.grant('ops', { resource: 'emails', actions: ['manage'] });
  const ops = make(QUIET).forClient('ops');
  await ops.pauseQueue('emails');
  assert.strictEqual(await c.getQueueStatus('emails').then((s) => s.isPaused), true);
  const [pause] = await c.securityManager.getAuditLog({ action: 'pause' });
  assert.deepStrictEqual([pause.actor, pause.queue, pause.outcome], ['ops', 'emails', 'success']);
  // lists are filtered to what the client may view
  await c.enqueueJob('hidden', 'x', {});
  await c.refreshQueues();
  assert.deepStrictEqual(await web.getQueueNames(), ['emails']);
  assert.deepStrictEqual([...(await web.getAllQueuesHealth()).keys()], ['emails']);
  assert.deepStrictEqual(await web.getClientPermissions(), await c.accessControl.getClientPermissions('web'));
});

test('forClient jobs are rate limited as the client', async (t) => {
  const { c } = setupCoordinators(t, 'acl-rate', { ...QUIET, security: { ...QUIET.security, rateLimiting: { maxJobsPerMinute: 1 } } });
  const web = c.forClient('web');
  await web.enqueueJob('q', 'a', {});
  await assert.rejects(web.enqueueJob('q', 'a', {}), (err) => err.code === 'ERR_RATE_LIMIT' && err.clientId === 'web');
});

test('a worker running as a client needs process permission to start, and one that loses it gives its job back and closes', async (t) => {
  const { c, make } = setupCoordinators(t, 'acl-worker', QUIET);
  const a = c.accessControl;
  await a.grant('billing', { resource: 'invoices', actions: ['process', 'enqueue'] });
  const billing = c.forClient('billing');
  await assert.rejects(billing.registerWorker('payroll', async () => {}), isForbidden('process'));
  await assert.rejects(c.registerWorker('payroll', async () => {}, { clientId: 'billing' }), isForbidden('process'));
  await assert.rejects(billing.registerWorker({ queueName: 'invoices', processor: async () => {}, options: { clientId: 'root' } }), isForbidden('impersonate'));
  await assert.rejects(billing.registerWorker({ queueName: 'payroll', processor: async () => {} }), isForbidden('process'));
  assert.strictEqual(c.getWorkers('payroll').length, 0, 'no worker started');

  const ran = [];
  const w = await billing.registerWorker('invoices', async (job) => ran.push(job.data.n), { concurrency: 1 });
  const closed = new Promise((resolve) => w.once('closed', resolve));
  const errors = [];
  w.on('error', (err) => errors.push(err));
  await billing.enqueueJob('invoices', 'i', { n: 1 });
  await waitFor(() => ran.length === 1);

  // revoked from another process: the next job is not run
  await make(QUIET).accessControl.revoke('billing', 'invoices', ['process']);
  const second = await c.enqueueJob('invoices', 'i', { n: 2 });
  await closed;
  assert.deepStrictEqual(ran, [1]);
  assert.ok(errors.some((e) => e instanceof AuthorizationError));
  const job = await c.getJob('invoices', second.id);
  assert.strictEqual(await job.getState(), 'waiting', 'back in the queue for a permitted worker');
  assert.strictEqual(job.attemptsMade, 0);
  const [denied] = await c.securityManager.getAuditLog({ actor: 'billing', action: 'process' });
  assert.deepStrictEqual([denied.outcome, denied.queue, denied.jobId], ['denied', 'invoices', second.id]);
  // a permitted worker runs it
  const done = [];
  await c.registerWorker('invoices', async (j) => done.push(j.id));
  await waitFor(() => done.includes(second.id));
});
