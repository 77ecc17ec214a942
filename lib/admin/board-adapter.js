'use strict';
// Bull Board over our own Queue class. Bull Board's BullMQ adapter cannot take it: its
// constructor accepts only BullMQ's Queue (an instanceof check, or a `metaValues.version`
// starting with "bullmq"), it requires the bullmq package when loaded, and it reads Redis
// INFO and job flows through the queue's raw ioredis client, which our Queue (a Rust engine)
// does not have. Everything else it calls is BullMQ's public Queue API, which our Queue
// implements, so this adapter forwards to it one method at a time.
//
// What differs from the BullMQ adapter: no Redis details panel (the board is configured with
// hideRedisDetails; /ready and /metrics cover Redis), no flow trees (we have no flows), and
// no `paused` job list (BullMQ 6 has no paused state; neither do we).
//
// BaseAdapter comes from the board's dist folder (its package exports it there): the board's
// version is pinned in package.json, and the admin tests drive every board route through
// this adapter.

const { BaseAdapter } = require('@bull-board/api/dist/queueAdapters/base.js');
const { STATUSES } = require('@bull-board/api/constants/statuses');

class JobQueueBoardAdapter extends BaseAdapter {
  /** `queue` is our Queue (lib/queue.js); `options` Bull Board's adapter options. */
  constructor(queue, options = {}) {
    // 'bullmq': the board then shows what BullMQ queues have (schedulers, prioritized...)
    super('bullmq', options);
    this.queue = queue;
  }

  getName() {
    return `${this.prefix}${this.queue.name}`;
  }

  getQueueName() {
    return this.queue.name;
  }

  getQueueQualifiedName() {
    return this.queue.qualifiedName;
  }

  getQueuePrefix() {
    return this.queue.opts?.prefix;
  }

  getQueueKey(set) {
    return this.queue.toKey(set);
  }

  async getRedisInfo() {
    return null;
  }

  async getClient() {
    return null;
  }

  async getFlowProducer() {
    return null;
  }

  async getWorkers() {
    return this.normalizeWorkers(await this.queue.getWorkers(), ':w:');
  }

  async clean(status, graceTimeMs) {
    await this.queue.clean(graceTimeMs, Number.MAX_SAFE_INTEGER, status);
  }

  addJob(name, data, options) {
    return this.queue.add(name, data, options);
  }

  getJob(id) {
    return this.queue.getJob(id);
  }

  async getJobs(statuses, start, end) {
    return (await this.queue.getJobs(statuses, start, end)).filter(Boolean);
  }

  getJobCounts() {
    return this.queue.getJobCounts();
  }

  async getJobLogs(id) {
    return (await this.queue.getJobLogs(id)).logs;
  }

  async getMetrics(type, start, end) {
    const metrics = await this.queue.getMetrics(type, start, end);
    return { ...metrics, data: metrics.data.map((point) => Number(point) || 0) };
  }

  isPaused() {
    return this.queue.isPaused();
  }

  pause() {
    return this.queue.pause();
  }

  resume() {
    return this.queue.resume();
  }

  empty() {
    return this.queue.drain();
  }

  obliterate({ force = false } = {}) {
    return this.queue.obliterate({ force });
  }

  async promoteAll() {
    await this.queue.promoteJobs();
  }

  removeJobScheduler(id) {
    return this.queue.removeJobScheduler(id);
  }

  async getJobSchedulers() {
    const schedulers = await this.queue.getJobSchedulers(0, -1);
    return Promise.all(
      schedulers.map(async (s) => ({
        id: s.key,
        name: s.name,
        pattern: s.pattern,
        every: s.every,
        tz: s.tz,
        limit: s.limit,
        startDate: s.startDate,
        endDate: s.endDate,
        next: s.next ?? undefined,
        iterationCount: s.iterationCount,
        template: s.template,
        ...(await this._pendingRun(s)),
      })),
    );
  }

  /** The scheduler's pending run (`repeat:<id>:<next>`, the id both we and BullMQ give it). */
  async _pendingRun(s) {
    if (!s.next) return {};
    const run = await this.queue.getJob(`repeat:${s.key}:${s.next}`);
    return run ? { nextRunJobId: run.id } : {};
  }

  async getArmedJobSchedulerId(job) {
    if (!job.id || !job.repeatJobKey) return null;
    const s = await this.queue.getJobScheduler(job.repeatJobKey).catch(() => null);
    return s?.next && `repeat:${job.repeatJobKey}:${s.next}` === job.id ? job.repeatJobKey : null;
  }

  getJobSchedulersCount() {
    return this.queue.getJobSchedulersCount();
  }

  get supportsJobSchedulerUpdate() {
    return true;
  }

  get supportsJobSchedulerRun() {
    return true;
  }

  async runJobSchedulerNow(id) {
    const s = await this.queue.getJobScheduler(id);
    if (!s) return 'not-found';
    return this.queue.add(s.name, s.template?.data, s.template?.opts);
  }

  async updateJobScheduler(id, repeat) {
    const current = await this.queue.getJobScheduler(id);
    if (!current) return 'not-found';
    const template = { name: current.name, data: current.template?.data, opts: current.template?.opts };
    try {
      // a cron we cannot parse is refused before anything is written (ValidationError)
      const next = await this.queue.upsertJobScheduler(id, repeat, template);
      return next ? 'updated' : 'invalid-schedule';
    } catch (err) {
      if (err?.code === 'ERR_VALIDATION') return 'invalid-schedule';
      throw err;
    }
  }

  getStatuses() {
    return [STATUSES.latest, ...this.getJobStatuses()];
  }

  getJobStatuses() {
    return [STATUSES.active, STATUSES.waiting, STATUSES.waitingChildren, STATUSES.prioritized, STATUSES.completed, STATUSES.failed, STATUSES.delayed];
  }

  async getGlobalConcurrency() {
    return (await this.queue.getGlobalConcurrency()) || null;
  }

  async setGlobalConcurrency(concurrency) {
    if (concurrency <= 0) await this.queue.removeGlobalConcurrency();
    else await this.queue.setGlobalConcurrency(concurrency);
  }

  get supportsGlobalRateLimit() {
    return true;
  }

  async getConfiguredRateLimit() {
    return (await this.queue.getGlobalRateLimit()) ?? null;
  }

  async setConfiguredRateLimit({ max, duration }) {
    await this.queue.setGlobalRateLimit(max, duration);
  }

  async removeConfiguredRateLimit() {
    await this.queue.removeGlobalRateLimit();
  }

  async getActiveRateLimitTtl() {
    const ttl = await this.queue.getRateLimitTtl();
    return ttl > 0 ? ttl : 0;
  }

  async releaseActiveRateLimit() {
    await this.queue.removeRateLimitKey();
  }

  getQueueDefaultJobOptions() {
    return this.queue.opts?.defaultJobOptions ?? {};
  }
}

module.exports = { JobQueueBoardAdapter };
