'use strict';
// The design's QueueHealthChecker: queue health by the design's rules (backlog, no workers,
// error rate, paused, long waits) with recommendations, and the coordinator's overall health.

const { checkQueueName } = require('../input');
const { Periodic, periodOf } = require('./periodic');

/** The design's thresholds; `monitoring.health` in the config overrides them. */
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


class QueueHealthCheckerImpl {
  /** `queues` is the queue manager (known queues, the queue list); `metrics` the metrics
   * collector; `ping()` the Redis round trip in ms. */
  constructor(ctx, { queues, metrics, ping }) {
    this._ctx = ctx;
    this._queues = queues;
    this._metrics = metrics;
    this._ping = ping;
    const interval = periodOf(ctx.config.monitoring?.healthChecks, 'monitoring.healthChecks', { interval: 60_000 }, {
      enabled: 'ENABLE_HEALTH_CHECKS',
      interval: 'HEALTH_CHECK_INTERVAL',
    });
    this._checker = interval === null ? null : new Periodic(interval, () => this._checkAll(), (err) => ctx.logger.error('health check failed', { error: err.message }));
  }

  /** Starts the periodic checks when `monitoring.healthChecks.enabled`. */
  start() {
    this._checker?.start();
  }

  /** Stops the periodic checks (and waits for one in progress). */
  async stop() {
    await this._checker?.stop();
  }

  /**
   * One periodic round: every queue of the prefix is checked; degraded and unhealthy ones
   * are logged at warn; the coordinator emits `health` with `{ checkedAt: Date, status
   * (the worst queue's, healthy when none), queues: Map<name, QueueHealthStatus> }`.
   */
  async _checkAll() {
    const queues = await this.getAllQueuesHealth();
    let status = 'healthy';
    for (const [name, h] of queues) {
      if (h.status === 'degraded' || h.status === 'unhealthy') {
        this._ctx.logger.warn(`queue ${h.status}`, { queue: name, issues: h.issues.map((i) => i.message) });
      }
      if (h.status === 'unhealthy' || (h.status === 'degraded' && status === 'healthy')) status = h.status;
    }
    this._ctx.emit('health', { checkedAt: new Date(), status, queues });
  }

  /**
   * `{ queueName, status: healthy | degraded | unhealthy | unknown, message, metrics,
   * issues }` by the design's rules: backlog over `maxWaiting` (warning), jobs waiting with no
   * worker in any process (critical), error rate over `maxErrorRate` (warning), paused
   * (warning), next job waiting longer than `maxWaitTime` (warning). Thresholds come from
   * `monitoring.health` in the config, then `thresholds`. `metrics` also carries
   * `throughput` and `averageProcessingTime`.
   */
  async checkQueueHealth(queueName, thresholds = {}) {
    checkQueueName(queueName);
    const t = { ...HEALTH_DEFAULTS, ...this._ctx.config.monitoring?.health, ...thresholds };
    const m = await this._metrics.engineQueueMetrics(queueName);
    const c = m.jobCounts;
    const exists = m.isPaused || Object.values(c).some((n) => n > 0) || m.workers > 0 || this._queues.isKnown(queueName);
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
      throughput: m.throughput,
      averageProcessingTime: m.averageProcessingTime,
    };
    return { queueName, status, message, metrics, issues };
  }

  /** Health of every queue of the prefix. */
  async getAllQueuesHealth() {
    const out = new Map();
    for (const name of await this._queues.queueNamesInRedis()) out.set(name, await this.checkQueueHealth(name));
    return out;
  }

  /** What to do about the queue's issues: `[{type, priority, description, action}]`. */
  async getHealthRecommendations(queueName) {
    const health = await this.checkQueueHealth(queueName);
    return health.issues.map((i) => RECOMMENDATIONS[i.rule]).filter(Boolean);
  }

  /** `{ status, redis: {connected, latencyMs}, queues: {name: status}, checkedAt }`. */
  async getHealth() {
    let redis;
    try {
      redis = { connected: true, latencyMs: await this._ping() };
    } catch (err) {
      return { status: 'unhealthy', redis: { connected: false, error: err.message }, queues: {}, checkedAt: new Date() };
    }
    const queues = {};
    for (const [name, h] of await this.getAllQueuesHealth()) queues[name] = h.status;
    const statuses = Object.values(queues);
    const status = statuses.includes('unhealthy') ? 'unhealthy' : statuses.includes('degraded') ? 'degraded' : 'healthy';
    return { status, redis, queues, checkedAt: new Date() };
  }
}

module.exports = { QueueHealthCheckerImpl, HEALTH_DEFAULTS };
