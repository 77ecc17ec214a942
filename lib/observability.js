'use strict';
// The design's monitoring (seed 003 §5.2, §8): metrics read from Redis (so they count every
// process's workers), the Prometheus exposition, queue health with its rules and
// recommendations, coordinator health and status, and a queue's Redis events stream.

const { call, checkQueueName } = require('./input');
const { QueueEvents } = require('./queue-events');

/** The §5.2 thresholds; `monitoring.health` in the config overrides them. */
const HEALTH_DEFAULTS = {
  maxWaiting: 1000,
  maxErrorRate: 0.1,
  /** ms the next job to run may have waited. */
  maxWaitTime: 300_000,
};

const MESSAGES = {
  healthy: 'Queue is operating normally',
  unhealthy: 'Queue has critical issues that require immediate attention',
  unknown: 'Queue status unknown',
};

function issuesOf(m, t) {
  const issues = [];
  const waiting = m.jobCounts.waiting + m.jobCounts.prioritized;
  if (waiting > t.maxWaiting) issues.push({ severity: 'warning', rule: 'high_depth', message: `High number of waiting jobs: ${waiting}` });
  if (m.workers === 0 && waiting > 0) issues.push({ severity: 'critical', rule: 'no_workers', message: 'No active workers but jobs are waiting' });
  if (m.errorRate > t.maxErrorRate) issues.push({ severity: 'warning', rule: 'error_rate', message: `High error rate: ${(m.errorRate * 100).toFixed(1)}%` });
  if (m.isPaused) issues.push({ severity: 'warning', rule: 'paused', message: 'Queue is currently paused' });
  if (m.oldestWaitingMs > t.maxWaitTime) {
    issues.push({ severity: 'warning', rule: 'long_wait', message: `The next job has waited ${Math.round(m.oldestWaitingMs / 1000)}s` });
  }
  return issues;
}

function statusOf(issues) {
  if (issues.some((i) => i.severity === 'critical')) return 'unhealthy';
  if (issues.some((i) => i.severity === 'warning')) return 'degraded';
  return 'healthy';
}

const RECOMMENDATIONS = {
  no_workers: { type: 'scale_workers', priority: 'high', description: 'Jobs are waiting and no worker serves the queue.', action: 'registerWorker or createWorkerPool for this queue' },
  high_depth: { type: 'scale_workers', priority: 'medium', description: 'The backlog is over its threshold.', action: 'scaleWorkers / enableAutoScaling, or raise concurrency' },
  error_rate: { type: 'investigate_errors', priority: 'high', description: 'Many jobs fail for good.', action: 'getFailedJobStatistics, then fix the cause and requeueFailedJob' },
  paused: { type: 'resume_queue', priority: 'medium', description: 'The queue is paused; nothing is processed.', action: 'resumeQueue when ready' },
  long_wait: { type: 'adjust_settings', priority: 'medium', description: 'Jobs wait long before they start.', action: 'add workers or raise concurrency; check the rate limit' },
};

module.exports = {
  QueueEvents,

  /**
   * The queue's metrics from Redis: `{ name, isPaused, jobCounts, processingRate, throughput,
   * averageProcessingTime, errorRate }` (seed 003 §8.1) plus `processingTime` and `waitTime`
   * (`{average, p50, p95, p99, count}` in ms), `completedPerMinute`/`failedPerMinute` (the
   * current minute first), `byJobType`, `workers`, `stalled`, `oldestWaitingMs`.
   */
  async getQueueMetrics(queueName) {
    checkQueueName(queueName);
    const native = await this._engine();
    const m = JSON.parse(await call(native.queueMetrics(queueName)));
    m.averageProcessingTime = m.processingTime.average;
    return m;
  },

  /** Workers of every process (registry in Redis): totals, by queue, and each one. */
  async getWorkerMetrics(workerId) {
    if (workerId !== undefined) return this.getWorkerStatus(workerId);
    const workers = await this.getAllWorkers();
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
  },

  /** `{ timestamp, queues: Map<name, metrics>, workers, system: {memory, cpu, uptime} }`. */
  async collectMetrics() {
    const names = [...(await this.getAllQueues()).keys()];
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
  },

  /** Prometheus text exposition of every queue's metrics, and this process's. */
  async exportPrometheusMetrics() {
    const native = await this._engine();
    const names = [...(await this.getAllQueues()).keys()];
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
  },

  /**
   * `{ queueName, status: healthy | degraded | unhealthy | unknown, message, metrics,
   * issues }` by the §5.2 rules: backlog over `maxWaiting` (warning), jobs waiting with no
   * worker in any process (critical), error rate over `maxErrorRate` (warning), paused
   * (warning), next job waiting longer than `maxWaitTime` (warning). Thresholds come from
   * `monitoring.health` in the config, then `thresholds`.
   */
  async checkQueueHealth(queueName, thresholds = {}) {
    checkQueueName(queueName);
    const t = { ...HEALTH_DEFAULTS, ...this.config.monitoring?.health, ...thresholds };
    const m = await this.getQueueMetrics(queueName);
    const c = m.jobCounts;
    const exists = m.isPaused || Object.values(c).some((n) => n > 0) || m.workers > 0 || this._known.has(queueName);
    if (!exists) {
      return { queueName, status: 'unknown', message: 'Queue not found', metrics: null, issues: [{ severity: 'critical', rule: 'not_found', message: 'Queue does not exist' }] };
    }
    const issues = issuesOf(m, t);
    const status = statusOf(issues);
    const message = MESSAGES[status] ?? `Queue has ${issues.length} warning(s) but is still functional`;
    const metrics = {
      jobCounts: { active: c.active, waiting: c.waiting + c.prioritized, completed: c.completed, failed: c.failed, delayed: c.delayed },
      activeWorkers: m.workers,
      isPaused: m.isPaused,
      processingRate: m.processingRate,
      averageWaitTime: m.waitTime.average,
      oldestWaitingMs: m.oldestWaitingMs,
      errorRate: m.errorRate,
    };
    return { queueName, status, message, metrics, issues };
  },

  /** Health of every queue of the prefix. */
  async getAllQueuesHealth() {
    const out = new Map();
    for (const name of (await this.getAllQueues()).keys()) out.set(name, await this.checkQueueHealth(name));
    return out;
  },

  /** What to do about the queue's issues: `[{type, priority, description, action}]`. */
  async getHealthRecommendations(queueName) {
    const health = await this.checkQueueHealth(queueName);
    return health.issues.map((i) => RECOMMENDATIONS[i.rule]).filter(Boolean);
  },

  /** `{ status, redis: {connected, latencyMs}, queues: {name: status}, checkedAt }`. */
  async getHealth() {
    let redis;
    try {
      redis = { connected: true, latencyMs: await this.ping() };
    } catch (err) {
      return { status: 'unhealthy', redis: { connected: false, error: err.message }, queues: {}, checkedAt: new Date() };
    }
    const queues = {};
    for (const [name, h] of await this.getAllQueuesHealth()) queues[name] = h.status;
    const statuses = Object.values(queues);
    const status = statuses.includes('unhealthy') ? 'unhealthy' : statuses.includes('degraded') ? 'degraded' : 'healthy';
    return { status, redis, queues, checkedAt: new Date() };
  },

  /** What this coordinator runs, and the Redis connection with its latency. */
  async getStatus() {
    let redis;
    try {
      redis = { connected: true, latencyMs: await this.ping() };
    } catch (err) {
      redis = { connected: false, error: err.message };
    }
    return {
      redis,
      prefix: this.config.redis.keyPrefix,
      queues: [...this._queues.keys()],
      workers: this.getWorkers().map((w) => ({ id: w.id, queueName: w.queueName, status: w.state })),
      pools: [...this.getAllWorkerPools().values()].map((p) => ({ queueName: p.queueName, currentWorkers: p.currentWorkers, autoScaling: p.autoScaling })),
      uptime: process.uptime(),
    };
  },

  /** Follows the queue's Redis events stream from now: a QueueEvents (BullMQ's API) on this
   * coordinator's connection; close() it when done. */
  async events(queueName) {
    checkQueueName(queueName);
    const native = await this._engine();
    const emitter = QueueEvents._onEngine(queueName, native);
    await emitter.waitUntilReady();
    this._watches.add(emitter);
    emitter.once('closed', () => this._watches.delete(emitter));
    return emitter;
  },
};
