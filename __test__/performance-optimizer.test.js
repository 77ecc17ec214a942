'use strict';
// The design's PerformanceOptimizer through coordinator.performanceOptimizer and the facade,
// its performance.optimization setting, the scaling patterns (reactive, predictive,
// scheduled) as auto-scaling policies, and performance.autoScaling for every queue this
// coordinator runs workers for. All against the real Redis.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ValidationError, PerformanceOptimizerImpl } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-perf', config);

/** A processor that holds every job until `open()`. */
function gate() {
  let release;
  const opened = new Promise((resolve) => {
    release = resolve;
  });
  return { processor: async () => opened.then(() => 'ok'), open: () => release() };
}

const bulk = (n, name = 'j') => Array.from({ length: n }, () => ({ name, data: {} }));

test('analyzeBottlenecks: depth averaged over real samples, latency, throughput, errors, memory, cpu', async (t) => {
  const { c } = setup(t);
  const po = c.performanceOptimizer;
  assert.ok(po instanceof PerformanceOptimizerImpl);
  await c.enqueueBulk('bn', bulk(10));
  const first = await po.analyzeBottlenecks('bn');
  assert.equal(first.queueName, 'bn');
  assert.equal(first.avgQueueDepth, 10, 'one sample so far');
  assert.equal(first.depthSamples, 1);
  await c.enqueueBulk('bn', bulk(20));
  const t0 = Date.now();
  await waitFor(() => Date.now() - t0 >= 30, { intervalMs: 5 }); // let the first depth hold a while
  const second = await c.analyzeBottlenecks('bn');
  assert.equal(second.depthSamples, 2);
  assert.equal(second.currentQueueDepth, 30);
  assert.ok(second.avgQueueDepth >= 10 && second.avgQueueDepth < 30, `time-weighted: ${second.avgQueueDepth}`);
  assert.ok(second.memoryUsage > 0 && second.memoryUsage < 1);
  assert.ok(second.cpuUsage >= 0 && second.cpuUsage <= 1);

  await c.registerWorker('bn', async (job) => {
    if (job.name === 'bad') throw new Error('no');
    return 'ok';
  }, { concurrency: 5 });
  await c.enqueueBulk('bn', bulk(10, 'bad').map((j) => ({ ...j, options: { attempts: 1 } })));
  await waitFor(async () => (await c.getQueueMetrics('bn')).processingTime.count === 40);
  const done = await po.analyzeBottlenecks('bn');
  assert.equal(done.currentQueueDepth, 0);
  assert.equal(done.errorRate, 10 / 40);
  assert.equal(done.throughput, 30 / 300, 'completed per second over 5 minutes');
  assert.ok(done.avgProcessingTime >= 0);
  assert.equal(done.activeWorkers, 1);
  await assert.rejects(po.analyzeBottlenecks(''), ValidationError);
});

test('optimizeQueue: the design’s score and recommendations from the analysis', async (t) => {
  const { c } = setup(t);
  await c.enqueueBulk('backlog', bulk(150));
  const r = await c.performanceOptimizer.optimizeQueue('backlog');
  assert.equal(r.queueName, 'backlog');
  const scale = r.recommendations.find((a) => a.type === 'scale_workers');
  assert.equal(scale.priority, 'high');
  assert.equal(typeof scale.description, 'string');
  assert.equal(typeof scale.expectedImpact, 'string');
  // design score: (max(0, 100 − 150/10) + min(100, 0/10) + (100 − 0)) / 3
  assert.equal(r.currentPerformance, (85 + 0 + 100) / 3);
  assert.ok(r.estimatedImprovement > 0 && r.estimatedImprovement <= 100 - r.currentPerformance);

  await c.registerWorker('calm', async () => 'ok');
  await c.enqueueJob('calm', 'c', {});
  await waitFor(async () => (await c.getQueueStatus('calm')).jobCounts.completed === 1);
  const calm = await c.optimizeQueue('calm');
  assert.deepEqual(calm.recommendations, []);
  assert.equal(calm.estimatedImprovement, 0);
});

test('recommendScaling: a pool under a backlog should grow within its bounds', async (t) => {
  const { c } = setup(t);
  const g = gate();
  t.after(() => g.open());
  await c.createWorkerPool('rs', { minWorkers: 1, maxWorkers: 3, initialWorkers: 1, processor: g.processor });
  await c.enqueueBulk('rs', bulk(101));
  await waitFor(async () => (await c.getQueueStatus('rs')).jobCounts.active === 1);
  const rec = await c.performanceOptimizer.recommendScaling('rs');
  assert.equal(rec.queueName, 'rs');
  assert.equal(rec.currentWorkers, 1);
  // reactive: 100 waiting at 1 job/s per worker (none finished yet) within 60 s → 2 × 1.2 → 3
  assert.equal(rec.recommendedWorkers, 3);
  assert.equal(rec.action, 'scale_up');
  assert.equal(rec.pattern, 'reactive');
  assert.equal(rec.maxWorkers, 3);
  assert.equal(rec.confidence, 0.2, 'no job has finished yet');
  assert.match(rec.reason, /100 waiting/);
  assert.equal((await c.recommendScaling('rs')).recommendedWorkers, 3);
});

test('predictive pattern: the trend of the per-minute metrics lists in Redis drives the forecast', async (t) => {
  const { c, prefix, redis } = setup(t);
  const g = gate();
  t.after(() => g.open());
  await c.createWorkerPool('trend', { minWorkers: 1, maxWorkers: 50, initialWorkers: 1, processor: g.processor });
  // five complete minutes that finished 10, 20, 30, 40, 50 jobs (newest first in BullMQ's list)
  const r = redis();
  const now = Date.now();
  await r.hset(`${prefix}:trend:metrics:completed`, 'count', 150, 'prevCount', 150, 'prevTS', now);
  await r.lpush(`${prefix}:trend:metrics:completed:data`, 10, 20, 30, 40, 50);
  await c.enableAutoScaling('trend', { pattern: 'predictive', historyMinutes: 5, forecastMinutes: 5, checkInterval: 60_000 });
  const rec = await c.performanceOptimizer.recommendScaling('trend');
  assert.equal(rec.pattern, 'predictive');
  assert.ok(Math.abs(rec.forecast.slope - 10) < 1e-9, `slope ${rec.forecast.slope}`);
  // the line 10..50 extended 5 minutes past the last point: 100 jobs/min
  assert.ok(Math.abs(rec.forecast.perMinute - 100) < 1e-9, `forecast ${rec.forecast.perMinute}`);
  // the one worker finished 30 jobs/min over the last five complete minutes: 100/30 × 1.2 → 4
  assert.equal(rec.recommendedWorkers, 4);
  assert.equal(rec.action, 'scale_up');
  assert.ok(rec.confidence > 0.2);
  await assert.rejects(c.enableAutoScaling('trend', { pattern: 'psychic' }), ValidationError);
});

test('scheduled pattern: the matching schedule entry sets the pool size', async (t) => {
  const { c } = setup(t);
  await c.createWorkerPool('sched', { minWorkers: 1, maxWorkers: 4, initialWorkers: 1, processor: async () => 'ok' });
  const scaled = [];
  c.on('scaled', (e) => scaled.push(e));
  await c.enableAutoScaling('sched', {
    pattern: 'scheduled',
    schedule: [{ cron: '* * * * *', workers: 3 }],
    checkInterval: 20,
    scaleUpCooldown: 0,
    scaleDownCooldown: 0,
  });
  await waitFor(() => c.getWorkerPool('sched').currentWorkers === 3);
  assert.equal(scaled[0].queueName, 'sched');
  assert.match(scaled[0].detail, /schedule \(cron \* \* \* \* \*\): 3 workers/);
  await c.disableAutoScaling('sched');
  const hour = new Date().getHours();
  await c.enableAutoScaling('sched', {
    pattern: 'scheduled',
    schedule: [{ hours: [(hour + 1) % 24, (hour + 2) % 24], workers: 4 }, { hours: [hour, hour + 1], workers: 2 }],
    checkInterval: 20,
    scaleUpCooldown: 0,
    scaleDownCooldown: 0,
  });
  await waitFor(() => c.getWorkerPool('sched').currentWorkers === 2);
  const text = await c.exportPrometheusMetrics();
  assert.match(text, /worker_scaling_events_count\{queue="sched"\} 3\n/, 'each scaling is in the design’s histogram');
  assert.match(text, /worker_scaling_events_sum\{queue="sched"\} 2\n/, 'the pool’s first worker, +2, then −1');
  for (const bad of [[], [{ cron: 'every day', workers: 1 }], [{ hours: [25, 3], workers: 1 }], [{ hours: [1, 2] }]]) {
    await assert.rejects(c.enableAutoScaling('sched', { pattern: 'scheduled', schedule: bad }), ValidationError, JSON.stringify(bad));
  }
});

test('performance.autoScaling: registered workers scale within sane or queue-type bounds; disabled = untouched', async (t) => {
  const env = setup(t, { performance: { autoScaling: { enabled: true, checkInterval: 30, cooldownPeriod: 0 } } });
  const c = env.c;
  const g = gate();
  t.after(() => g.open());
  await c.registerWorker('grow', g.processor);
  await c.createQueue('typed', { type: 'maintenance' });
  await c.registerWorker('typed', g.processor);
  const off = env.make();
  await off.registerWorker('still', g.processor);
  await c.enqueueBulk('grow', bulk(301));
  await c.enqueueBulk('typed', bulk(301));
  await off.enqueueBulk('still', bulk(301));
  // reactive: ~300 waiting at 1 job/s per worker within 60 s → 5 × 1.2 → 6 (bounds 1–10);
  // jobs the new workers hold ahead lower the backlog a little, so 5 is possible too
  const sizes = [];
  c.on('scaled', (e) => e.queueName === 'grow' && sizes.push(e.actualCount));
  await waitFor(() => c.getWorkersByQueue('grow').length >= 5, { message: 'grow has 5 or 6 workers' });
  assert.ok(c.getWorkersByQueue('grow').length <= 6);
  // the maintenance type scales 1–2
  await waitFor(() => c.getWorkersByQueue('typed').length === 2, { message: 'typed has 2 workers' });
  assert.equal(off.getWorkersByQueue('still').length, 1, 'no auto-scaling when disabled');
  g.open();
  await waitFor(async () => (await c.getQueueStatus('grow')).jobCounts.completed === 301);
  // nothing waiting: 70% per check, never below one
  await waitFor(() => c.getWorkersByQueue('grow').length === 1, { message: 'grow shrinks back to 1' });
  assert.ok(sizes.every((n) => n >= 1 && n <= 10), JSON.stringify(sizes));
  assert.ok(sizes.length >= 3, `down gradually: ${JSON.stringify(sizes)}`);
  await c.shutdown({ timeoutMs: 2000 });
  await assert.rejects(async () => env.make({ performance: { autoScaling: { enabled: true, checkInterval: 0 } } }), ValidationError);
});

test('performance.optimization: periodic optimization events for every queue; disabled = none', async (t) => {
  const env = setup(t, { performance: { optimization: { enabled: true, analysisInterval: 60, sampleInterval: 15 } } });
  await env.c.enqueueBulk('opt', bulk(120));
  const events = [];
  env.c.on('optimization', (e) => events.push(e));
  const quiet = env.make({ performance: { optimization: { enabled: false, analysisInterval: 10 } } });
  let heard = 0;
  quiet.on('optimization', () => heard++);
  await waitFor(() => events.some((e) => e.results.has('opt')));
  const e = events.find((x) => x.results.has('opt'));
  assert.ok(e.analyzedAt instanceof Date);
  const r = e.results.get('opt');
  assert.equal(r.queueName, 'opt');
  assert.ok(r.recommendations.some((a) => a.type === 'scale_workers'));
  // each analysis takes one depth sample: more samples than analyses come from the sampler
  await waitFor(() => events.some((x, i) => x.results.get('opt')?.analysis.depthSamples > i + 1), { message: 'samples between analyses' });
  await waitFor(() => events.length >= 3);
  assert.equal(heard, 0);
  assert.throws(() => env.make({ performance: { optimization: { enabled: true, analysisInterval: 'often' } } }), ValidationError);
});
