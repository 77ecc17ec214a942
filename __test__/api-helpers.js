'use strict';
// Helpers shared by the coordinator API test files (enqueue, worker-api, failed-jobs,
// ordering, queue-status, shutdown, config-api): promises resolved by hand, a worker's events
// as arrays, and child processes with a controlled environment.

const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Records a worker's events: completed [{id, result}], failed [{id, message, retrying}], active [job]. */
function record(worker) {
  const r = { completed: [], failed: [], active: [] };
  worker.on('completed', (job, result) => r.completed.push({ id: job.id, result }));
  worker.on('failed', (job, err, _prev, info) => r.failed.push({ id: job.id, message: err.message, retrying: info && info.retrying }));
  worker.on('active', (job) => r.active.push(job));
  worker.on('error', () => {});
  return r;
}

/** Runs `node -e code` with env; resolves {code, signal, stdout, stderr, ms}; kills it after timeoutMs. */
function runChild(code, env, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** process.env without the REDIS_* and job-queue variables, so a child sees only what we set. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(REDIS_|DEFAULT_JOB_|DEFAULT_WORKER_|WORKER_STALLED|MAX_JOB_DATA)/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}
module.exports = { ROOT, deferred, record, runChild, cleanEnv };
