'use strict';
// The design's JobQueueMetrics and MetricsCollector through coordinator.metricsCollector and
// the facade: QueueMetrics' flat fields, WorkerMetricsSnapshot (all, or one worker),
// application counters/gauges/histograms in valid Prometheus text, and
// monitoring.metricsCollection's periodic `metrics` events.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ValidationError, WorkerNotFoundError, JobQueueMetricsImpl } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-metrics', config);

/** Every non-comment line is `name{labels} value`, every family has HELP and TYPE once. */
function assertValidExposition(text) {
  const typed = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const key = `${meta[1]} ${meta[2]}`;
      assert.ok(!typed.has(key), `${key} appears twice`);
      typed.set(key, meta[3]);
      continue;
    }
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? [-+]?(\d+(\.\d+)?(e[-+]?\d+)?|\+Inf|-Inf|NaN)$/, `bad sample line: ${line}`);
  }
  return typed;
}

test('getQueueMetrics carries the design’s flat QueueMetrics fields next to jobCounts', async (t) => {
  const { c } = setup(t);
  await c.registerWorker('flat', async () => 'ok');
  await c.enqueueBulk('flat', Array.from({ length: 3 }, () => ({ data: {} })));
  // the histograms arrive with the workers' metrics flush (at most a second later)
  await waitFor(async () => (await c.getQueueMetrics('flat')).processingTime.count === 3);
  await c.enqueueJob('flat', 'later', {}, { delay: 60_000 });
  const m = await c.metricsCollector.getQueueMetrics('flat');
  assert.equal(m.name, 'flat');
  assert.equal(m.completed, 3);
  assert.equal(m.delayed, 1);
  assert.equal(m.waiting, 0);
  assert.equal(m.active, 0);
  assert.equal(m.failed, 0);
  assert.equal(m.activeWorkers, 1);
  assert.equal(m.jobCounts.completed, 3);
  assert.equal(m.averageProcessingTime, m.processingTime.average);
  assert.equal((await c.getQueueMetrics('flat')).completed, 3);
});

test('getWorkerMetrics is a WorkerMetricsSnapshot; with an id, restricted to that worker', async (t) => {
  const { c } = setup(t);
  const a = await c.registerWorker('wa', async () => 'ok');
  await c.registerWorker('wb', async () => 'ok');
  await c.enqueueBulk('wa', [{ data: {} }, { data: {} }]);
  await waitFor(async () => (await c.metricsCollector.getWorkerMetrics(a.id)).averageJobsPerWorker === 2, { message: 'the heartbeat carries the processed count' });
  const all = await c.metricsCollector.getWorkerMetrics();
  assert.equal(all.totalWorkers, 2);
  assert.deepEqual(all.workersByQueue, { wa: 1, wb: 1 });
  const one = await c.getWorkerMetrics(a.id);
  assert.equal(one.totalWorkers, 1);
  assert.equal(one.activeWorkers, 1);
  assert.deepEqual(one.workersByQueue, { wa: 1 });
  assert.equal(one.averageJobsPerWorker, 2);
  assert.deepEqual(one.workers.map((w) => w.id), [a.id]);
  await assert.rejects(c.metricsCollector.getWorkerMetrics('no-such-worker'), WorkerNotFoundError);
});

test('incrementCounter, setGauge and recordHistogram appear in valid Prometheus text', async (t) => {
  const { c } = setup(t);
  const mc = c.metricsCollector;
  assert.ok(mc instanceof JobQueueMetricsImpl);
  mc.incrementCounter('photos_uploaded_total', { tenant: 'a"b\\c\nd' });
  mc.incrementCounter('photos_uploaded_total', { tenant: 'a"b\\c\nd' }, 4);
  mc.incrementCounter('plain_total');
  mc.setGauge('cache_entries', 12, { region: 'eu' });
  mc.setGauge('cache_entries', 7, { region: 'eu' });
  mc.describeMetric('upload_ms', { type: 'histogram', help: 'Upload time.', buckets: [10, 100] });
  for (const v of [5, 50, 500]) mc.recordHistogram('upload_ms', v, { kind: 'jpeg' });
  await c.registerWorker('prom', async () => 'ok');
  await c.enqueueJob('prom', 'p', {});
  await waitFor(async () => (await c.getQueueStatus('prom')).jobCounts.completed === 1);

  const text = await c.exportPrometheusMetrics();
  const typed = assertValidExposition(text);
  assert.equal(typed.get('TYPE photos_uploaded_total'), 'counter');
  assert.equal(typed.get('TYPE cache_entries'), 'gauge');
  assert.equal(typed.get('TYPE upload_ms'), 'histogram');
  assert.equal(typed.get('HELP upload_ms'), 'Upload time.');
  assert.equal(typed.get('TYPE queue_jobs_completed'), 'gauge', 'the Redis metrics are still there');
  assert.ok(text.includes('photos_uploaded_total{tenant="a\\"b\\\\c\\nd"} 5\n'));
  assert.ok(text.includes('plain_total 1\n'));
  assert.ok(text.includes('cache_entries{region="eu"} 7\n'));
  assert.ok(text.includes('upload_ms_bucket{kind="jpeg",le="10"} 1\n'));
  assert.ok(text.includes('upload_ms_bucket{kind="jpeg",le="100"} 2\n'));
  assert.ok(text.includes('upload_ms_bucket{kind="jpeg",le="+Inf"} 3\n'));
  assert.ok(text.includes('upload_ms_sum{kind="jpeg"} 555\n'));
  assert.ok(text.includes('upload_ms_count{kind="jpeg"} 3\n'));
});

test('bad metric names, labels and values are ValidationErrors and record nothing', async (t) => {
  const { c } = setup(t);
  const mc = c.metricsCollector;
  assert.throws(() => mc.incrementCounter('bad name'), ValidationError);
  assert.throws(() => mc.incrementCounter('9lives'), ValidationError);
  assert.throws(() => mc.incrementCounter('ok_total', { 'bad-label': 'x' }), ValidationError);
  assert.throws(() => mc.incrementCounter('ok_total', { __reserved: 'x' }), ValidationError);
  assert.throws(() => mc.incrementCounter('ok_total', {}, -1), ValidationError);
  assert.throws(() => mc.setGauge('g', Number.NaN), ValidationError);
  assert.throws(() => mc.recordHistogram('h', Infinity), ValidationError);
  assert.throws(() => mc.incrementCounter('jobs_completed_total'), ValidationError, 'exported from Redis already');
  mc.setGauge('typed', 1);
  assert.throws(() => mc.incrementCounter('typed'), ValidationError, 'a gauge is not a counter');
  const text = await c.exportPrometheusMetrics();
  assert.ok(!text.includes('ok_total'));
  assertValidExposition(text);
});

test('monitoring.metricsCollection: enabled → periodic metrics events; disabled → none', async (t) => {
  const env = setup(t, { monitoring: { metricsCollection: { enabled: true, interval: 50 } } });
  await env.c.enqueueJob('tick', 't', {});
  const snapshots = [];
  env.c.on('metrics', (s) => snapshots.push(s));
  await waitFor(() => snapshots.length >= 2);
  assert.ok(snapshots[0].timestamp instanceof Date);
  assert.equal(snapshots[0].queues.get('tick').waiting, 1);
  assert.equal(typeof snapshots[0].workers.totalWorkers, 'number');

  const quiet = env.make({ monitoring: { metricsCollection: { enabled: false, interval: 20 } } });
  await quiet.initialize();
  let heard = 0;
  quiet.on('metrics', () => heard++);
  // the enabled coordinator ticks 3 more times meanwhile: a deadline, not a sleep
  const seen = snapshots.length;
  await waitFor(() => snapshots.length >= seen + 3);
  assert.equal(heard, 0);

  await env.c.shutdown();
  const after = snapshots.length;
  const other = env.make({ monitoring: { metricsCollection: { enabled: true, interval: 20 } } });
  await other.initialize(); // the timer starts on connecting
  let otherTicks = 0;
  other.on('metrics', () => otherTicks++);
  await waitFor(() => otherTicks >= 3);
  assert.equal(snapshots.length, after, 'shutdown stopped the timer');
  assert.throws(() => env.make({ monitoring: { metricsCollection: { enabled: true, interval: 0 } } }), ValidationError);
});
