'use strict';
// The design's JobQueueMetrics (its metricsCollector): metrics read from Redis, so they count
// every process's workers, and their Prometheus exposition; and the design's MetricsCollector
// (incrementCounter, setGauge, recordHistogram) for application metrics of this process.

const { call, checkQueueName } = require('../input');
const { WorkerNotFoundError } = require('../errors');
const { MetricRegistry } = require('./metric-registry');
const { Periodic, periodOf } = require('./periodic');

class JobQueueMetricsImpl {
  /** `queues` is the queue manager (the queue list); `workers` the worker manager;
   * `registry` the application metrics (a MetricRegistry shared with the other managers). */
  constructor(ctx, { queues, workers, registry = new MetricRegistry() }) {
    this._ctx = ctx;
    this._queues = queues;
    this._workers = workers;
    this.registry = registry;
    const interval = periodOf(ctx.config.monitoring?.metricsCollection, 'monitoring.metricsCollection', { interval: 30_000 }, {
      enabled: 'ENABLE_METRICS_COLLECTION',
      interval: 'METRICS_COLLECTION_INTERVAL',
    });
    this._collector = interval === null ? null : new Periodic(interval, () => this._collectAndEmit(), (err) => ctx.logger.error('metrics collection failed', { error: err.message }));
  }

  /** Starts the periodic collection when `monitoring.metricsCollection.enabled`. */
  start() {
    this._collector?.start();
  }

  /** Stops the periodic collection (and waits for one in progress). */
  async stop() {
    await this._collector?.stop();
  }

  /** One periodic round: collectMetrics, emitted as the coordinator's `metrics` event. */
  async _collectAndEmit() {
    const snapshot = await this.collectMetrics();
    this._ctx.emit('metrics', snapshot);
  }

  /**
   * Adds `value` (default 1, ≥ 0) to the counter `name` with `labels`. Application metrics
   * live in this process and appear in exportPrometheusMetrics; names must be valid
   * Prometheus names and not one of the families read from Redis (ValidationError).
   */
  incrementCounter(name, labels, value = 1) {
    this.registry.incrementCounter(name, labels, value);
  }

  /** Sets the gauge `name` with `labels` to `value`. */
  setGauge(name, value, labels) {
    this.registry.setGauge(name, value, labels);
  }

  /** Records `value` in the histogram `name` with `labels` (default buckets suit ms; see
   * describeMetric). */
  recordHistogram(name, value, labels) {
    this.registry.recordHistogram(name, value, labels);
  }

  /** Sets a metric's HELP text and, for a histogram not yet recorded, its bucket bounds:
   * `describeMetric(name, {type: 'counter'|'gauge'|'histogram', help?, buckets?})`. */
  describeMetric(name, options) {
    this.registry.describe(name, options);
  }

  /**
   * The queue's metrics from Redis, the design's QueueMetricsSnapshot `{ name, isPaused,
   * jobCounts, processingRate, throughput, averageProcessingTime, errorRate }` in the
   * design's units: `processingRate` is jobs finished (completed or failed for good) per
   * minute over the last 5 minutes, `throughput` completed jobs per second over the last
   * minute, `errorRate` the share of finished jobs that failed for good over the last hour
   * (0 to 1). With the design's flat QueueMetrics fields `waiting` (prioritized included),
   * `active`, `completed`, `failed`, `delayed`, `activeWorkers`; plus `processingTime` and
   * `waitTime` (`{average, p50, p95, p99, count}` in ms), `completedPerMinute` /
   * `failedPerMinute` (the current minute first), `byJobType`, `workers`, `stalled`,
   * `oldestWaitingMs`.
   */
  async getQueueMetrics(queueName) {
    return inDesignUnits(await this.engineQueueMetrics(queueName));
  }

  /** The queue's metrics as the engine computes them (the managers' scaling and health
   * rules read these): `processingRate` finished jobs per second over the current minute,
   * `throughput` completed jobs per second over 5 minutes, `errorRate` over 5 minutes. */
  async engineQueueMetrics(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const m = await call(native.queueMetrics(queueName));
    m.averageProcessingTime = m.processingTime.average;
    const c = m.jobCounts;
    m.waiting = c.waiting + c.prioritized;
    m.active = c.active;
    m.completed = c.completed;
    m.failed = c.failed;
    m.delayed = c.delayed;
    m.activeWorkers = m.workers;
    return m;
  }

  /**
   * The design's WorkerMetricsSnapshot `{ totalWorkers, activeWorkers, workersByQueue,
   * averageJobsPerWorker }` plus `workers` (their WorkerStatus), over the workers of every
   * process (the registry in Redis; workers whose process stopped its heartbeats are
   * listed but not counted). With a `workerId`, the same shape restricted to that worker
   * (WorkerNotFoundError when no process has it).
   */
  async getWorkerMetrics(workerId) {
    let workers = await this._workers.getAllWorkers();
    if (workerId !== undefined) {
      workers = workers.filter((w) => w.id === workerId);
      if (workers.length === 0) throw new WorkerNotFoundError(workerId);
    }
    const live = workers.filter((w) => w.status !== 'stale');
    const workersByQueue = {};
    for (const w of live) workersByQueue[w.queueName] = (workersByQueue[w.queueName] || 0) + 1;
    const processed = live.reduce((n, w) => n + w.processedJobs, 0);
    return {
      totalWorkers: live.length,
      activeWorkers: live.filter((w) => w.status === 'active').length,
      workersByQueue,
      averageJobsPerWorker: live.length ? processed / live.length : 0,
      workers,
    };
  }

  /** `{ timestamp, queues: Map<name, metrics>, workers, system: {memory, cpu, uptime} }`. */
  async collectMetrics() {
    const names = await this._queues.queueNamesInRedis();
    const queues = new Map();
    for (const name of names) queues.set(name, await this.getQueueMetrics(name));
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      timestamp: new Date(),
      queues,
      workers: await this.getWorkerMetrics(),
      system: {
        memory: { heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, rss: memory.rss },
        cpu: { user: cpu.user, system: cpu.system },
        uptime: process.uptime(),
      },
    };
  }

  /** Prometheus text exposition of every queue's metrics (from Redis), this process's, and
   * the application metrics recorded here. */
  async exportPrometheusMetrics() {
    const native = await this._ctx.engine();
    const names = await this._queues.queueNamesInRedis();
    const cpu = process.cpuUsage();
    return (
      (await call(native.prometheus(names))) +
      '# HELP process_resident_memory_bytes Resident memory of this process.\n' +
      '# TYPE process_resident_memory_bytes gauge\n' +
      `process_resident_memory_bytes ${process.memoryUsage().rss}\n` +
      '# HELP process_cpu_seconds_total CPU time of this process.\n' +
      '# TYPE process_cpu_seconds_total counter\n' +
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}\n` +
      this.registry.render()
    );
  }
}

/** Sum of the first `n` points of a per-minute series (the current minute first). */
const sumOf = (series, n) => (series ?? []).slice(0, n).reduce((a, b) => a + b, 0);

/**
 * Engine metrics → the design's units. The per-minute series are clock minutes, the current
 * (partial) one first: "the last minute" is the current minute plus the part of the previous
 * one that still falls within 60 s; "the last 5 minutes" / "the last hour" are the current
 * minute and the 4 / 59 before it.
 */
function inDesignUnits(m, now = Date.now()) {
  const completed = m.completedPerMinute ?? [];
  const failed = m.failedPerMinute ?? [];
  const elapsed = (now % 60_000) / 60_000; // share of the current minute that has passed
  const lastMinute = (completed[0] ?? 0) + (completed[1] ?? 0) * (1 - elapsed);
  const done = sumOf(completed, 60);
  const dead = sumOf(failed, 60);
  return {
    ...m,
    processingRate: (sumOf(completed, 5) + sumOf(failed, 5)) / 5,
    throughput: lastMinute / 60,
    errorRate: done + dead > 0 ? dead / (done + dead) : m.errorRate,
  };
}

module.exports = { JobQueueMetricsImpl, inDesignUnits };
