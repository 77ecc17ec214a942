'use strict';
// `job-queue serve` (bin/job-queue.js) started from the environment as a child process, and
// the packaging of the admin entry: the core import loads none of the admin's dependencies.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { REDIS_URL, uniquePrefix, cleanup, waitFor } = require('./helpers');
const { ROOT, runChild, cleanEnv } = require('./api-helpers');

const BIN = join(ROOT, 'bin', 'job-queue.js');
const SECRET = 'the bin test secret, at least 32 bytes';

/** Modules only the admin entry needs (and lib/admin itself). */
const ADMIN_ONLY = /node_modules\/(fastify|jose|@bull-board|@fastify|ajv|ejs|avvio|find-my-way|light-my-request|pino)\/|\/lib\/admin\//;

test("the core import loads none of the admin service's dependencies; the admin entry does", async () => {
  const script = (specifier) =>
    `require(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((p) => ${ADMIN_ONLY}.test(p))));`;
  const core = await runChild(script('@shared-infra/job-queue'), cleanEnv({}));
  assert.equal(core.code, 0, core.stderr);
  assert.deepEqual(JSON.parse(core.stdout), []);
  const admin = await runChild(script('@shared-infra/job-queue/admin'), cleanEnv({}));
  assert.equal(admin.code, 0, admin.stderr);
  const loaded = JSON.parse(admin.stdout);
  assert.ok(loaded.some((p) => p.includes('node_modules/fastify/')), 'the check sees fastify when it is loaded');
  assert.ok(loaded.some((p) => p.includes('node_modules/@bull-board/')));
});

test('serving Bull Board loads neither BullMQ nor ioredis: the board runs on our Queue and engine', { timeout: 30000 }, async () => {
  const prefix = uniquePrefix('jqt-admin-mods');
  const code = `
    (async () => {
      const { JobQueueCoordinator } = require('@shared-infra/job-queue');
      const { createAdminServer } = require('@shared-infra/job-queue/admin');
      const { SignJWT } = await import('jose');
      const c = new JobQueueCoordinator({ redis: { url: ${JSON.stringify(REDIS_URL)}, keyPrefix: ${JSON.stringify(prefix)} } });
      await c.enqueueJob('mods', 'a', {});
      const secret = new TextEncoder().encode(${JSON.stringify(SECRET)});
      const admin = await createAdminServer(c, { port: 0, auth: { jwtSecret: ${JSON.stringify(SECRET)} } });
      const token = await new SignJWT({ scope: 'queues:read' }).setProtectedHeader({ alg: 'HS256' }).setSubject('o').setExpirationTime('1m').sign(secret);
      const res = await fetch(admin.url + '/ui/api/queues?activeQueue=mods&status=latest', { headers: { authorization: 'Bearer ' + token } });
      const names = (await res.json()).queues.map((q) => q.name);
      await admin.close();
      await c.destroyQueue('mods', { force: true });
      await c.shutdown();
      const loaded = Object.keys(require.cache).filter((p) => /node_modules\\/(bullmq|ioredis)\\//.test(p));
      process.stdout.write(JSON.stringify({ names, loaded }));
    })();`;
  const r = await runChild(code, cleanEnv({ LOG_LEVEL: 'error' }));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { names: ['mods'], loaded: [] });
});

/** Runs `job-queue ...args` to its end: { code, stdout, stderr }. */
function runBin(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `job-queue serve ...args` with `env`; resolves to { child, url, exited } once it logs
 * that it listens (or rejects with what it printed). */
function serve(t, args, env) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /"msg":"admin service listening","url":"([^"]+)"/.exec(stderr);
      if (m) resolve({ child, url: m[1], exited, stderr: () => stderr });
    });
    exited.then(({ code }) => reject(new Error(`job-queue serve exited with ${code}:\n${stderr}`)));
  });
}

test('job-queue serve: admin service from the environment, workers from --setup, a token from job-queue token, scale over HTTP, SIGTERM stops it', { timeout: 60000 }, async (t) => {
  const prefix = uniquePrefix('jqt-admin-bin');
  t.after(() => cleanup(REDIS_URL, prefix));
  const queue = 'bin-queue';
  const { child, url, exited } = await serve(t, ['--port', '0', '--setup', join(__dirname, 'fixtures', 'admin-setup.js')], {
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    ADMIN_JWT_SECRET: SECRET,
    ADMIN_TEST_QUEUE: queue,
    LOG_LEVEL: 'info',
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${url}/health`)).status, 200);
  await waitFor(async () => (await fetch(`${url}/ready`)).status === 200, { message: 'ready' });
  // a token from `job-queue token`, signed with the same ADMIN_JWT_SECRET
  const minted = await runBin(['token', '--sub', 'ops', '--scope', 'queues:read queues:write', '--expires', '5m'], cleanEnv({ ADMIN_JWT_SECRET: SECRET }));
  assert.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();
  const readOnly = (await runBin(['token', '--sub', 'viewer'], cleanEnv({ ADMIN_JWT_SECRET: SECRET }))).stdout.trim();
  const refused = await fetch(`${url}/queues/${queue}/pause`, { method: 'POST', headers: { authorization: `Bearer ${readOnly}` } });
  assert.equal(refused.status, 403, 'the default scope is queues:read');
  const res = await fetch(`${url}/queues/${queue}/scale`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ targetWorkers: 3 }),
  });
  const scaled = await res.json();
  assert.deepEqual([res.status, scaled.previousCount, scaled.actualCount], [200, 1, 3]);
  child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0);
});

test('job-queue: no key source is an error naming it; token without a secret or --sub; --help; an unknown command', { timeout: 30000 }, async () => {
  const missing = await runBin(['serve', '--port', '0'], cleanEnv({ REDIS_URL }));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /invalid auth: needs exactly one of jwtSecret, publicKey, jwksUrl/);
  const noSecret = await runBin(['token', '--sub', 'ops'], cleanEnv({}));
  assert.deepEqual([noSecret.code, /ADMIN_JWT_SECRET/.test(noSecret.stderr)], [1, true]);
  const noSub = await runBin(['token'], cleanEnv({ ADMIN_JWT_SECRET: SECRET }));
  assert.deepEqual([noSub.code, /--sub/.test(noSub.stderr)], [1, true]);
  const help = await runBin(['--help'], cleanEnv({}));
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: job-queue serve/);
  const unknown = await runBin(['launch'], cleanEnv({}));
  assert.equal(unknown.code, 2);
});
