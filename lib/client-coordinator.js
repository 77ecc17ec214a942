'use strict';
// coordinator.forClient(clientId): the coordinator as one client may use it. Each call is
// checked against the client's permissions (the access control: enqueue, view, manage,
// process) before the coordinator acts; a denial is an AuthorizationError, written to the
// audit log, and nothing happens. The calls run as the client, so the audit log names it, its
// jobs carry its id (the `clientId` option: per-client rate limits) and its workers run as it.

const { ValidationError, AuthorizationError } = require('./errors');
const { ManagerContext } = require('./managers/context');
const { checkClientId } = require('./managers/access-control');

/** Methods checked as reading the queue named by their first argument. */
const VIEW = [
  'getQueueStatus',
  'getJob',
  'getJobLogs',
  'getFailedJobs',
  'getArchivedJobs',
  'getFailedJobStatistics',
  'getRecurringJobs',
  'getScheduledJobs',
  'getQueueMetrics',
  'checkQueueHealth',
  'getHealthRecommendations',
  'getRetryStatistics',
  'analyzeBottlenecks',
  'optimizeQueue',
  'recommendScaling',
  'events',
];

/** Methods checked as changing the queue named by their first argument. */
const MANAGE = [
  'destroyQueue',
  'pauseQueue',
  'resumeQueue',
  'cancelScheduledJob',
  'cancelJob',
  'updateJobPriority',
  'promoteJob',
  'changeDelay',
  'requeueFailedJob',
  'archiveFailedJob',
  'purgeFailedJobs',
  'scaleWorkers',
  'createWorkerPool',
  'scaleWorkerPool',
  'enableAutoScaling',
  'disableAutoScaling',
];

/** The job name enqueueJob would give. */
function jobNameOf(queueName, jobName, data) {
  if (typeof jobName === 'string' && jobName) return jobName;
  return data && typeof data === 'object' && typeof data.type === 'string' ? data.type : queueName;
}

class ClientCoordinator {
  constructor(coordinator, clientId) {
    checkClientId(clientId);
    Object.defineProperty(this, '_c', { value: coordinator });
    /** The client this view acts for. */
    this.clientId = clientId;
  }

  /** Runs `fn` as the client (the audit log names it). */
  _as(fn) {
    return ManagerContext.runAs(this.clientId, fn);
  }

  _authorize(action, queueName, job) {
    return this._c.accessControl.authorize(this.clientId, action, queueName, job);
  }

  /** Options with the client's id; a different id given is an AuthorizationError. */
  _own(options, field = 'options') {
    if (options === undefined || options === null) return { clientId: this.clientId };
    if (typeof options !== 'object' || Array.isArray(options)) throw new ValidationError(field, 'must be an object');
    if (options.clientId !== undefined && options.clientId !== this.clientId) {
      throw new AuthorizationError(`client ${this.clientId} may not act as client ${options.clientId}`, { clientId: this.clientId, action: 'impersonate' });
    }
    return { ...options, clientId: this.clientId };
  }

  /** This client's stored permissions. */
  getClientPermissions() {
    return this._c.accessControl.getClientPermissions(this.clientId);
  }

  /** enqueueJob, when the client may enqueue jobs of that name on the queue. */
  enqueueJob(queueName, ...args) {
    return this._as(async () => {
      const [jobName, data, options] = typeof args[0] === 'string' ? args : [undefined, ...args];
      const own = this._own(options);
      await this._authorize('enqueue', queueName, { jobType: jobNameOf(queueName, jobName, data), data });
      return jobName === undefined ? this._c.enqueueJob(queueName, data, own) : this._c.enqueueJob(queueName, jobName, data, own);
    });
  }

  /** enqueueBulk, when the client may enqueue every one of the jobs. */
  enqueueBulk(queueName, jobs) {
    return this._as(async () => {
      if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
      const own = jobs.map((j, i) => {
        if (!j || typeof j !== 'object') throw new ValidationError(`jobs[${i}]`, 'must be an object');
        const { opts, options, ...rest } = j;
        return { ...rest, options: this._own(options ?? opts, `jobs[${i}].options`) };
      });
      for (const j of own) await this._authorize('enqueue', queueName, { jobType: jobNameOf(queueName, j.name, j.data), data: j.data });
      return this._c.enqueueBulk(queueName, own);
    });
  }

  /** scheduleJob, when the client may enqueue jobs of that name on the queue. */
  scheduleJob(queueName, jobName, data, options) {
    return this._as(async () => {
      const own = this._own(options);
      await this._authorize('enqueue', queueName, { jobType: jobName, data });
      return this._c.scheduleJob(queueName, jobName, data, own);
    });
  }

  /** scheduleRecurringJob, when the client may enqueue jobs of that name on the queue; the
   * runs carry the client's id. */
  scheduleRecurringJob(queueName, jobName, data, cronOrOptions, maybeOptions) {
    return this._as(async () => {
      await this._authorize('enqueue', queueName, { jobType: jobName, data });
      const optionsForm = cronOrOptions !== null && typeof cronOrOptions === 'object' && !('every' in cronOrOptions) && maybeOptions === undefined;
      if (optionsForm) return this._c.scheduleRecurringJob(queueName, jobName, data, this._own(cronOrOptions));
      return this._c.scheduleRecurringJob(queueName, jobName, data, cronOrOptions, this._own(maybeOptions));
    });
  }

  /** createQueue, when the client may manage the queue. */
  createQueue(nameOrConfig, maybeConfig) {
    return this._as(async () => {
      const name = typeof nameOrConfig === 'string' ? nameOrConfig : nameOrConfig?.name;
      await this._authorize('manage', name);
      return this._c.createQueue(nameOrConfig, maybeConfig);
    });
  }

  /** retryJob(queue, jobId), when the client may manage the queue (the one-argument form,
   * which searches every queue, is not offered to a client). */
  retryJob(queueName, jobId) {
    return this._as(async () => {
      if (jobId === undefined) throw new ValidationError('queueName', 'a client view retries a job of a named queue: retryJob(queue, jobId)');
      await this._authorize('manage', queueName);
      return this._c.retryJob(queueName, jobId);
    });
  }

  /** registerWorker, running as the client: it needs `process` permission on the queue to
   * start, and keeps needing it before every attempt. */
  registerWorker(queueOrConfig, processor, options) {
    return this._as(async () => {
      if (queueOrConfig !== null && typeof queueOrConfig === 'object') {
        // the WorkerConfig form: options at the top level or under `options`
        const { options: nested, ...config } = queueOrConfig;
        const own = this._own({ clientId: config.clientId });
        return this._c.registerWorker({ ...config, options: { ...nested, ...this._own(nested, 'options'), ...own } });
      }
      return this._c.registerWorker(queueOrConfig, processor, this._own(options));
    });
  }

  /** Names of the queues of the prefix (read from Redis now) the client may view. */
  async getQueueNames() {
    const names = [...(await this._c.refreshQueues()).keys()];
    const allowed = await Promise.all(names.map((n) => this._c.accessControl.canViewQueue(this.clientId, n)));
    return names.filter((_n, i) => allowed[i]);
  }

  /** The health of every queue the client may view. */
  async getAllQueuesHealth() {
    const out = new Map();
    for (const name of await this.getQueueNames()) out.set(name, await this._c.checkQueueHealth(name));
    return out;
  }

  /** Workers of every process on the queues the client may view (of one queue, if given). */
  getAllWorkers(queueName) {
    return this._as(async () => {
      if (queueName !== undefined) {
        await this._authorize('view', queueName);
        return this._c.getAllWorkers(queueName);
      }
      const names = new Set(await this.getQueueNames());
      return (await this._c.getAllWorkers()).filter((w) => names.has(w.queueName));
    });
  }
}

for (const [action, methods] of [
  ['view', VIEW],
  ['manage', MANAGE],
]) {
  for (const method of methods) {
    Object.defineProperty(ClientCoordinator.prototype, method, {
      value: {
        [method](queueName, ...args) {
          return this._as(async () => {
            await this._authorize(action, queueName);
            return this._c[method](queueName, ...args);
          });
        },
      }[method],
      writable: true,
      configurable: true,
    });
  }
}

module.exports = { ClientCoordinator, VIEW, MANAGE };
