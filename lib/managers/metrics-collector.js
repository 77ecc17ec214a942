'use strict';
// The design's JobQueueMetrics (its metricsCollector): metrics read from Redis, so they count
// every process's workers, and their Prometheus exposition.

const { call, checkQueueName } = require('../input');

class JobQueueMetricsImpl {
  /** `queues` is the queue manager (the queue list); `workers` the worker manager. */
  constructor(ctx, { queues, workers }) {
    this._ctx = ctx;
    this._queues = queues;
    this._workers = workers;
  }

  /**
   * The queue's metrics from Redis: `{ name, isPaused, jobCounts, processingRate, throughput,
   * averageProcessingTime, errorRate }` plus `processingTime` and `waitTime` (`{average, p50,
   * p95, p99, count}` in ms), `completedPerMinute`/`failedPerMinute` (the current minute
   * first), `byJobType`, `workers`, `stalled`, `oldestWaitingMs`.
   */
  async getQueueMetrics(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const m = JSON.parse(await call(native.queueMetrics(queueName)));
    m.averageProcessingTime = m.processingTime.average;
    return m;
  }

  /** Workers of every process (registry in Redis): totals, by queue, and each one. With an
   * id, that worker's status. */
  async getWorkerMetrics(workerId) {
    if (workerId !== undefined) return this._workers.getWorkerStatus(workerId);
    const workers = await this._workers.getAllWorkers();
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
    const names = await this._queues.getQueueNames();
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

  /** Prometheus text exposition of every queue's metrics, and this process's. */
  async exportPrometheusMetrics() {
    const native = await this._ctx.engine();
    const names = await this._queues.getQueueNames();
    const cpu = process.cpuUsage();
    return (
      (await call(native.prometheus(names))) +
      '# HELP process_resident_memory_bytes Resident memory of this process.\n' +
      '# TYPE process_resident_memory_bytes gauge\n' +
      `process_resident_memory_bytes ${process.memoryUsage().rss}\n` +
      '# HELP process_cpu_seconds_total CPU time of this process.\n' +
      '# TYPE process_cpu_seconds_total counter\n' +
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}\n`
    );
  }
}

module.exports = { JobQueueMetricsImpl };
