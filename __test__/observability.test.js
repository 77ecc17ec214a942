'use strict';
// Observability (issue 7) against a real Redis: metrics kept in Redis and read from another
// process, the Prometheus exposition (parsed), each health rule created for real, the
// coordinator's events and a queue's events stream (BullMQ's workers included), structured
// logs (ours and the engine's), and progress and job logs seen by BullMQ.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue, Worker: BullWorker } = require('bullmq');
const { createLogger } = require('..');
const { REDIS_URL, RAW_REDIS_URL, waitFor, setupCoordinators } = require('./helpers');
const { startWorkerProcess } = require('./fixtures/worker-process');

const setup = (t, config) => setupCoordinators(t, 'jqt-obs', config);

/**
 * Parses the Prometheus text format strictly enough to catch a malformed exposition:
 * returns {families: {name: {type, help}}, samples: [{name, labels, value}]}.
 */
function parsePrometheus(text) {
  const families = {};
  const samples = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = line.match(new RegExp(`^# HELP (${NAME}) (.+)$`)))) {
      (families[m[1]] ||= {}).help = m[2];
    } else if ((m = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)))) {
      assert.equal(families[m[1]]?.type, undefined, `TYPE of ${m[1]} once`);
      (families[m[1]] ||= {}).type = m[2];
    } else if ((m = line.match(new RegExp(`^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\]|\\\\.)*",?)*)\\})? (-?[0-9.e+-]+|\\+Inf|NaN)$`)))) {
      const labels = {};
      for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
      samples.push({ name: m[1], labels, value: Number(m[3]) });
    } else {
      assert.fail(`not a valid exposition line: ${JSON.stringify(line)}`);
    }
  }
  for (const s of samples) {
    const family = s.name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(families[s.name]?.type || families[family]?.type === 'histogram', `sample ${s.name} has a TYPE`);
  }
  return { families, samples };
}

test('metrics are kept in Redis: another process reads counts, rates and latencies of jobs run elsewhere', async (t) => {
  const env = setup(t);
  const child = startWorkerProcess(REDIS_URL, env.prefix, 'work', { CONCURRENCY: '4' });
  t.after(() => child.close());
  await child.ready;
  await env.c.enqueueBulk('work', [...Array(20)].map((_, n) => ({ name: n < 15 ? 'resize' : 'upload', data: { n, holdMs: 30 } })));
  await waitFor(async () => (await env.c.getQueueStatus('work')).jobCounts.completed === 20);
  // workers send metrics at most once a second
  const other = env.make();
  const m = await waitFor(async () => {
    const r = await other.getQueueMetrics('work');
    return r.processingTime.count === 20 && r;
  });
  assert.equal(m.byJobType.resize.completed, 15);
  assert.equal(m.byJobType.upload.completed, 5);
  assert.equal(m.processingTime.count, 20);
  assert.ok(m.processingTime.p50 >= 25 && m.processingTime.p50 <= 50, `p50 ${m.processingTime.p50} for 30 ms jobs`);
  assert.ok(m.processingTime.p99 >= m.processingTime.p50);
  assert.ok(m.averageProcessingTime >= 30, `average ${m.averageProcessingTime}`);
  assert.equal(m.waitTime.count, 20);
  assert.equal(m.completedPerMinute.slice(0, 2).reduce((a, b) => a + b, 0), 20, 'this minute (or the last)');
  assert.ok(m.throughput > 0 && m.processingRate > 0);
  assert.equal(m.errorRate, 0);
  assert.equal(m.workers, 1, 'the worker of the other process');

  const collected = await env.c.collectMetrics();
  assert.ok(collected.queues.get('work'));
  assert.equal(collected.workers.workersByQueue.work, 1);
  assert.ok(collected.system.memory.rss > 0 && collected.system.cpu.user > 0);
  const wm = await env.c.getWorkerMetrics();
  assert.equal(wm.totalWorkers, 1);
});

test('exportPrometheusMetrics is valid text exposition with the design’s metrics', async (t) => {
  const { c } = setup(t);
  await c.registerWorker('prom', async (job) => {
    if (job.name === 'bad') throw new Error('no');
    return 1;
  }, { concurrency: 4 });
  await c.enqueueBulk('prom', [
    { name: 'good', data: {} },
    { name: 'good', data: {} },
    { name: 'bad', data: {}, options: { attempts: 2, backoff: 0 } },
  ]);
  await waitFor(async () => (await c.getQueueMetrics('prom')).processingTime.count === 4);
  const { families, samples } = parsePrometheus(await c.exportPrometheusMetrics());
  const expected = {
    jobs_completed_total: 'counter',
    jobs_failed_total: 'counter',
    job_retries_total: 'counter',
    jobs_dead_letter_total: 'counter',
    jobs_stalled_total: 'counter',
    job_processing_duration_seconds: 'histogram',
    job_wait_duration_seconds: 'histogram',
    queue_jobs_waiting: 'gauge',
    queue_jobs_active: 'gauge',
    queue_jobs_completed: 'gauge',
    queue_jobs_failed: 'gauge',
    queue_jobs_delayed: 'gauge',
    queue_paused: 'gauge',
    queue_active_workers: 'gauge',
  };
  for (const [name, type] of Object.entries(expected)) assert.equal(families[name]?.type, type, name);
  const value = (name, labels) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('jobs_completed_total', { queue: 'prom', job_type: 'good' }), 2);
  assert.equal(value('jobs_failed_total', { queue: 'prom', job_type: 'bad' }), 2);
  assert.equal(value('job_retries_total', { queue: 'prom', job_type: 'bad' }), 1);
  assert.equal(value('jobs_dead_letter_total', { queue: 'prom', job_type: 'bad' }), 1);
  assert.equal(value('queue_jobs_failed', { queue: 'prom' }), 1);
  assert.equal(value('queue_active_workers', { queue: 'prom' }), 1);
  // histogram buckets are cumulative, in seconds, and end at +Inf = _count
  const buckets = samples.filter((s) => s.name === 'job_processing_duration_seconds_bucket' && s.labels.job_type === 'good');
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value);
  assert.equal(buckets.at(-1).labels.le, '+Inf');
  assert.equal(buckets.at(-1).value, value('job_processing_duration_seconds_count', { queue: 'prom', job_type: 'good' }));
  assert.equal(buckets[0].labels.le, '0.005');
});

test('each health rule fires on its condition, with recommendations; coordinator health and status', async (t) => {
  const { c } = setup(t, { monitoring: { health: { maxWaiting: 3, maxWaitTime: 200, maxErrorRate: 0.2 } } });
  // no workers while jobs wait (critical) + high depth + long wait
  await c.enqueueBulk('health', [...Array(5)].map(() => ({ data: {} })));
  const h = await waitFor(async () => {
    const r = await c.checkQueueHealth('health');
    return r.issues.some((i) => i.rule === 'long_wait') && r;
  });
  assert.equal(h.status, 'unhealthy');
  assert.deepEqual(h.issues.map((i) => i.rule).sort(), ['high_depth', 'long_wait', 'no_workers']);
  const recs = await c.getHealthRecommendations('health');
  assert.ok(recs.some((r) => r.type === 'scale_workers' && r.priority === 'high'));

  // paused → warning and a resume recommendation
  await c.pauseQueue('health');
  const paused = await c.checkQueueHealth('health');
  assert.ok(paused.issues.some((i) => i.rule === 'paused'));
  assert.ok((await c.getHealthRecommendations('health')).some((r) => r.type === 'resume_queue'));
  await c.resumeQueue('health');

  // workers that fail half the jobs → error rate; once drained the queue is degraded only
  await c.registerWorker('health', async (job) => {
    if (Number(job.id) % 2 === 0) throw new Error('flaky');
  }, { concurrency: 5 });
  // (this minute and the last: the run may cross a minute boundary)
  await waitFor(async () => (await c.getQueueMetrics('health')).failedPerMinute.slice(0, 2).reduce((a, b) => a + b, 0) === 2);
  const errors = await c.checkQueueHealth('health');
  assert.deepEqual(errors.issues.map((i) => i.rule), ['error_rate']);
  assert.equal(errors.status, 'degraded');
  assert.equal(errors.metrics.errorRate, 0.4);
  assert.ok((await c.getHealthRecommendations('health')).some((r) => r.type === 'investigate_errors'));

  assert.equal((await c.checkQueueHealth('never-used')).status, 'unknown');
  const all = await c.getAllQueuesHealth();
  assert.equal(all.get('health').status, 'degraded');
  const health = await c.getHealth();
  assert.equal(health.redis.connected, true);
  assert.ok(health.redis.latencyMs >= 0 && health.redis.latencyMs < 1000);
  assert.equal(health.status, 'degraded');
  const status = await c.getStatus();
  assert.equal(status.redis.connected, true);
  assert.equal(status.workers.length, 1);
});

test('the coordinator emits this process’s events; events(queue) follows the stream, BullMQ’s workers too', async (t) => {
  const env = setup(t);
  const { c } = env;
  const local = [];
  for (const e of ['waiting', 'delayed', 'active', 'progress', 'completed', 'failed', 'paused', 'resumed', 'drained']) {
    c.on(e, (p) => local.push(e + (p.jobId ? `:${p.jobId}` : '')));
  }
  const stream = await c.events('ev');
  const seen = [];
  stream.on('event', (name, p) => seen.push(`${name}:${p.jobId ?? ''}`));
  await c.pauseQueue('ev');
  await c.resumeQueue('ev');
  await c.registerWorker('ev', async (job) => {
    await job.updateProgress(50);
    if (job.name === 'bad') throw new Error('no');
  });
  const a = await c.enqueueJob('ev', 'ok', {});
  const b = await c.enqueueJob('ev', 'bad', {}, { attempts: 1 });
  const d = await c.enqueueJob('ev', 'later', {}, { delayMs: 100 });
  await waitFor(() => local.includes(`completed:${d.id}`) && local.includes('drained'));
  for (const e of [`waiting:${a.id}`, `delayed:${d.id}`, `active:${a.id}`, `progress:${a.id}`, `completed:${a.id}`, `failed:${b.id}`, 'paused', 'resumed']) {
    assert.ok(local.includes(e), `${e} in ${local}`);
  }
  await waitFor(() => seen.includes(`completed:${d.id}`));
  for (const e of [`added:${a.id}`, `active:${a.id}`, `progress:${a.id}`, `failed:${b.id}`, `delayed:${d.id}`]) {
    assert.ok(seen.includes(e), `${e} in ${seen}`);
  }
  // a job run by a BullMQ worker shows up in our stream
  const bullQueue = new Queue('ev', { prefix: env.prefix, connection: { url: RAW_REDIS_URL } });
  const bullWorker = new BullWorker('ev', async () => 'bull', { prefix: env.prefix, connection: { url: RAW_REDIS_URL } });
  t.after(async () => {
    await bullWorker.close();
    await bullQueue.close();
  });
  await c.getWorkers('ev')[0].close();
  const fromBull = await bullQueue.add('viaBull', {});
  await waitFor(() => seen.includes(`completed:${fromBull.id}`));
  stream.close();
});

test('logs are JSON lines with queue, jobId, traceId and workerId; the engine’s go to the same logger', async (t) => {
  const lines = [];
  const stream = { write: (s) => lines.push(JSON.parse(s)) };
  const quiet = createLogger({ stream, level: 'error' });
  quiet.warn('dropped');
  quiet.error('kept', { queue: 'q' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 'error');
  assert.equal(lines[0].msg, 'kept');
  assert.ok(!Number.isNaN(Date.parse(lines[0].time)));

  const entries = [];
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error']) logger[level] = (fields, msg) => entries.push({ level, msg, ...fields });
  // a (fields, message) logger written by hand: loggerStyle says so (pino's is recognised)
  const { c } = setup(t, { logger, loggerStyle: 'pino' });
  await c.registerWorker('logs', async (job) => {
    if (job.name === 'slow') return new Promise(() => {}); // times out in the engine
    throw new RangeError('nope');
  }, { timeoutMs: 100 });
  const job = await c.scheduleJob('logs', 'broken', {}, { traceId: 'trace-42', maxRetries: 1 });
  const slow = await c.enqueueJob('logs', 'slow', {}, { attempts: 1 });
  const failed = await waitFor(() => entries.find((e) => e.msg === 'job failed'));
  assert.equal(failed.level, 'warn');
  assert.equal(failed.queue, 'logs');
  assert.equal(failed.jobId, job.id);
  assert.equal(failed.traceId, 'trace-42');
  assert.equal(failed.workerId, c.getWorkers('logs')[0].id);
  assert.equal(failed.error, 'RangeError: nope');
  const engine = await waitFor(() => entries.find((e) => e.msg === 'job timed out'));
  assert.equal(engine.source, 'engine');
  assert.equal(engine.jobId, slow.id);
  assert.equal(engine.queue, 'logs');
});

test('progress and job logs written by our processor are read by other processes and by BullMQ', async (t) => {
  const env = setup(t);
  await env.c.registerWorker('prog', async (job) => {
    await job.updateProgress({ pct: 40 });
    await job.log('step one');
    await job.log('step two');
    return 'ok';
  });
  const job = await env.c.enqueueJob('prog', 'p', {});
  await waitFor(async () => (await env.c.getJob('prog', job.id))?.returnvalue === 'ok');
  const other = env.make();
  assert.deepEqual((await other.getJob('prog', job.id)).progress, { pct: 40 });
  assert.deepEqual(await other.getJobLogs('prog', job.id), ['step one', 'step two']);
  const bull = new Queue('prog', { prefix: env.prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bull.close());
  assert.deepEqual((await bull.getJob(job.id)).progress, { pct: 40 });
  assert.deepEqual((await bull.getJobLogs(job.id)).logs, ['step one', 'step two']);
});
