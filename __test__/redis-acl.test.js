'use strict';
// Redis ACL users end to end: on a redis-server of its own (a port of 6410-6419, stopped by its
// pid), the test makes a user with redisAclRule(prefix) — the prefix's keys and the commands
// the engine sends, nothing else — turns the default user off, and runs every feature under
// that user: enqueue, workers, retries and dead letters, schedulers, delayed jobs, metrics,
// health, events, pause, the security manager, BullMQ's Queue, destroyQueue. Redis's ACL LOG
// must show no command of the user refused, and the user cannot reach other keys.
const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const Redis = require('ioredis');
const { JobQueueCoordinator, Queue, redisAclRule, ConnectionError } = require('..');
const { waitFor, uniquePrefix, hasCommand, pings } = require('./helpers');

const skip = !hasCommand('redis-server', ['--version']) && 'no redis-server installed';

async function portInRange(from = 6410, to = 6419) {
  for (let port = from; port <= to; port++) {
    const free = await new Promise((resolve) => {
      const srv = net.createServer().once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

test('the README lists the rule redisAclRule makes', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  assert.ok(readme.includes(redisAclRule('bull', 'job-queue', '<password>').join(' ')), 'README shows redisAclRule() for the default prefix');
  const rule = redisAclRule('app:', 'u', 'p');
  assert.deepStrictEqual(rule.slice(0, 9), ['ACL', 'SETUSER', 'u', 'on', '>p', 'resetkeys', '~app:*', 'resetchannels', '-@all']);
});

test('everything runs under an ACL user limited to the prefix and the commands the engine sends', { skip, timeout: 120000 }, async (t) => {
  const port = await portInRange();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const closers = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    server.kill('SIGTERM');
    await exited;
  });
  await waitFor(() => pings(port), { timeoutMs: 10000, message: `redis-server on ${port}` });

  const prefix = uniquePrefix('acl');
  const setup = new Redis({ port, host: '127.0.0.1' });
  await setup.call('ACL', 'SETUSER', 'admin', 'on', '>admin-pw', '~*', '&*', '+@all');
  await setup.call(...redisAclRule(prefix, 'jq', 'jq-pw'));
  await setup.call('ACL', 'SETUSER', 'default', 'off');
  setup.disconnect();
  const admin = new Redis({ port, host: '127.0.0.1', username: 'admin', password: 'admin-pw' });
  closers.push(() => admin.quit());
  await admin.call('ACL', 'LOG', 'RESET');

  const QUIET = { monitoring: { metricsCollection: { enabled: false }, healthChecks: { enabled: false } } };
  const make = (redis, extra = {}) => {
    const c = new JobQueueCoordinator({ redis: { host: '127.0.0.1', port, keyPrefix: prefix, ...redis }, ...QUIET, ...extra });
    closers.push(() => c.shutdown({ timeoutMs: 2000 }));
    return c;
  };
  // without the user, the server refuses us (the default user is off)
  await assert.rejects(make({}).initialize(), (err) => err instanceof ConnectionError || /NOAUTH|WRONGPASS|NOPERM|auth/i.test(err.message));

  const c = make({ username: 'jq', password: 'jq-pw' }, { security: { auditEnqueues: true } });
  // queues, jobs, workers
  await c.createQueue({ name: 'work', cleanup: { enabled: true, interval: 60_000 } });
  const done = [];
  const worker = await c.registerWorker('work', async (job) => {
    await job.updateProgress(50);
    await job.log('under an ACL user');
    if (job.data.fail) throw new Error('planned');
    done.push(job.name);
    return { ok: true };
  }, { concurrency: 2 });
  await c.enqueueJob('work', 'single', { n: 1 }, { clientId: 'acme' });
  await c.enqueueBulk('work', [{ name: 'bulk', data: { n: 2 } }, { name: 'bulk', data: { n: 3 } }]);
  await c.enqueueJob('work', 'delayed', { n: 4 }, { delay: 50 });
  const failing = await c.enqueueJob('work', 'failing', { fail: true }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
  await c.scheduleRecurringJob('work', 'tick', {}, { every: 100 }, {});
  await waitFor(() => ['single', 'bulk', 'delayed'].every((n) => done.includes(n)) && done.filter((n) => n === 'tick').length >= 2, { timeoutMs: 20000, message: 'jobs and two scheduler runs' });
  await waitFor(async () => (await c.getFailedJobs('work')).some((j) => j.id === failing.id), { message: 'the failing job in failed' });
  await c.cancelScheduledJob('work', 'tick');

  // events, status, metrics, health, workers
  const events = await c.events('work');
  const completed = new Promise((resolve) => events.once('completed', resolve));
  await c.enqueueJob('work', 'watched', {});
  await completed;
  await events.close();
  const status = await c.getQueueStatus('work');
  assert.strictEqual(status.workers, 1, 'CLIENT LIST works for the user');
  assert.ok((await c.getQueueMetrics('work')).completed >= 5);
  assert.match(await c.exportPrometheusMetrics(), /jobs_completed_total/);
  await c.collectMetrics();
  assert.strictEqual((await c.getAllWorkers('work')).length, 1);
  await c.getWorkerMetrics();
  await c.checkQueueHealth('work');
  await c.getHealth();
  await c.getRetryStatistics('work');
  await c.getFailedJobStatistics('work');
  await c.pauseQueue('work');
  await c.resumeQueue('work');

  // dead letters
  await c.requeueFailedJob('work', failing.id);
  await waitFor(async () => (await c.getJob('work', failing.id)).finishedOn !== undefined && (await c.getFailedJobs('work')).length === 1);
  await c.archiveFailedJob('work', failing.id);
  await c.purgeFailedJobs('work');
  assert.strictEqual(await c.retryJob('work', failing.id), false);

  // the security manager and access control
  await c.accessControl.grant('acme', { resource: 'work', actions: ['enqueue'] });
  await c.forClient('acme').enqueueJob('work', 'from-acme', {});
  assert.ok((await c.securityManager.checkClientRateLimit('acme')).allowed);
  assert.ok((await c.securityManager.getAuditLog({ actor: 'acme' })).length >= 2);

  // BullMQ's Queue on the same user
  const q = new Queue('work', { connection: { host: '127.0.0.1', port, username: 'jq', password: 'jq-pw' }, prefix });
  closers.push(() => q.close());
  await q.add('via-queue', { n: 9 });
  await waitFor(() => done.includes('via-queue'));
  assert.ok((await q.getJobCounts()).completed >= 6);

  await worker.close();
  await c.destroyQueue('work');
  assert.deepStrictEqual(await admin.keys(`${prefix}:work:*`), [], 'destroyQueue deleted every key');

  // nothing the user sent was refused
  const refused = (await admin.call('ACL', 'LOG')).map((entry) => {
    const o = {};
    for (let i = 0; i < entry.length; i += 2) o[entry[i]] = entry[i + 1];
    return o;
  });
  assert.deepStrictEqual(refused.map((e) => `${e.username}: ${e.reason} ${e.object}`), []);

  // and the user reaches nothing else
  const jq = new Redis({ port, host: '127.0.0.1', username: 'jq', password: 'jq-pw' });
  closers.push(() => jq.quit());
  await assert.rejects(jq.set('elsewhere', '1'), /NOPERM/);
  await assert.rejects(jq.call('FLUSHALL'), /NOPERM/);
  const outside = make({ username: 'jq', password: 'jq-pw', keyPrefix: `other-${prefix}` });
  await assert.rejects(outside.enqueueJob('q', {}), /NOPERM|no permissions/i, 'another prefix is out of reach');
});
