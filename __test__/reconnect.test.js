'use strict';
// Redis restarts under a running worker: a job in flight during the restart still completes,
// and the worker resumes taking new jobs by itself. Runs its own redis-server with AOF on a
// free loopback port (so data survives the restart), stopped by its own pid.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { JobQueueCoordinator, ConnectionError } = require('..');
const { waitFor, uniquePrefix, freePort, hasCommand, pings } = require('./helpers');

/** A redis-server with AOF on `port` in `dir`; resolves once it answers. */
async function startRedis(port, dir) {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
    { stdio: 'ignore' },
  );
  server.exited = new Promise((resolve) => server.once('exit', resolve));
  await waitFor(() => pings(port), { timeoutMs: 10000, message: `redis-server on ${port}` });
  return server;
}

async function stopRedis(server) {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  await server.exited;
}

test('a worker survives a Redis restart: the job in flight completes and new jobs are taken', { skip: !hasCommand('redis-server', ['--version']) && 'no redis-server installed' }, async () => {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jq-restart-'));
  let server = await startRedis(port, dir);
  const url = `redis://127.0.0.1:${port}`;
  const c = new JobQueueCoordinator({ redis: { url, keyPrefix: uniquePrefix('restart') } });
  try {
    let release;
    const held = new Promise((resolve) => (release = resolve));
    let started = false;
    const worker = await c.registerWorker('q', async (job) => {
      if (job.data.hold) {
        started = true;
        await held;
      }
      return { done: job.data.n };
    }, { concurrency: 2, lockDuration: 20000 });
    worker.on('error', () => {}); // connection errors during the restart are expected
    const first = await c.enqueueJob('q', { hold: true, n: 1 }, { attempts: 1 });
    await waitFor(() => started, { message: 'the first job to start' });

    await stopRedis(server);
    server = await startRedis(port, dir);
    release();

    await waitFor(async () => (await c.getJob('q', first.id).catch(() => null))?.finishedOn, {
      timeoutMs: 20000,
      message: 'the job that was running across the restart to complete',
    });
    assert.deepStrictEqual((await c.getJob('q', first.id)).returnvalue, { done: 1 });

    const second = await waitFor(
      () => c.enqueueJob('q', { n: 2 }, { attempts: 1 }).catch((err) => {
        if (err instanceof ConnectionError) return null; // the producer may see the outage once
        throw err;
      }),
      { timeoutMs: 20000, message: 'an enqueue after the restart' },
    );
    const done = await waitFor(async () => (await c.getJob('q', second.id))?.finishedOn && (await c.getJob('q', second.id)), {
      timeoutMs: 20000,
      message: 'the worker to take a job added after the restart',
    });
    assert.deepStrictEqual(done.returnvalue, { done: 2 });
    assert.strictEqual(done.attemptsMade, 1);
  } finally {
    await c.shutdown({ timeoutMs: 2000 });
    await stopRedis(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
