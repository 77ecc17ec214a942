'use strict';
// JobQueueCoordinator: the design's facade. It owns the connection and composes the design's
// managers, each reachable as a property (`coordinator.deadLetterHandler`) and through the
// flat methods the design calls on the coordinator itself (`coordinator.retryJob`).

const { EventEmitter } = require('node:events');
const { NativeEngine } = require('../binding');
const { resolveConfig, retrySettings } = require('./config');
const { tlsSettings, topologySettings, waitSettings, connectNative } = require('./connection');
const { call, checkQueueName } = require('./input');
const { createLogger } = require('./logger');
const { QueueEvents } = require('./queue-events');
const { Queue, ON_ENGINE } = require('./queue');
const { ManagerContext } = require('./managers/context');
const { QueueManagerImpl, QUEUE_TYPES } = require('./managers/queue-manager');
const { JobSchedulerImpl } = require('./managers/job-scheduler');
const { WorkerManagerImpl } = require('./managers/worker-manager');
const { WorkerPoolManagerImpl } = require('./managers/worker-pool-manager');
const { RetryHandlerImpl } = require('./managers/retry-handler');
const { DeadLetterHandlerImpl } = require('./managers/dead-letter-handler');
const { JobQueueMetricsImpl } = require('./managers/metrics-collector');
const { QueueHealthCheckerImpl } = require('./managers/health-checker');
const { PerformanceOptimizerImpl } = require('./managers/performance-optimizer');
const { MetricRegistry } = require('./managers/metric-registry');
const { JobAccessControlImpl } = require('./managers/access-control');
const { JobSecurityManagerImpl } = require('./managers/security-manager');
const { ClientCoordinator } = require('./client-coordinator');

class JobQueueCoordinator extends EventEmitter {
  constructor(config = {}) {
    super();
    this.config = resolveConfig(config);
    this.logger = createLogger({ target: this.config.logger, style: this.config.loggerStyle });
    this._native = null;
    this._connecting = null;
    this._watches = new Set(); // QueueEvents open through events()

    const ctx = new ManagerContext({
      config: this.config,
      logger: this.logger,
      engine: () => this._engine(),
      emitter: this,
    });
    // security first: every other manager writes to its audit log
    this.accessControl = new JobAccessControlImpl(ctx);
    this.securityManager = new JobSecurityManagerImpl(ctx, { access: this.accessControl });
    ctx.security = this.securityManager;
    const registry = new MetricRegistry(); // application metrics (the design's MetricsCollector)
    this.retryHandler = new RetryHandlerImpl(ctx, { metrics: registry });
    this.deadLetterHandler = new DeadLetterHandlerImpl(ctx, { metrics: registry });
    this.queueManager = new QueueManagerImpl(ctx, {
      queueFor: (name, queueConfig) => this._queueObject(name, queueConfig),
      health: (name) => this.healthChecker.checkQueueHealth(name),
      closeWorkers: (name) => this.workerManager.closeQueueWorkers(name),
    });
    this.jobScheduler = new JobSchedulerImpl(ctx, { queues: this.queueManager, security: this.securityManager });
    this.workerManager = new WorkerManagerImpl(ctx, {
      queues: this.queueManager,
      retry: this.retryHandler,
      security: this.securityManager,
      access: this.accessControl,
      failures: (queueName, jobName, jobId, error, retrying) => {
        this.deadLetterHandler.recordFailure(queueName, jobName);
        if (retrying === false) this.deadLetterHandler.noteWorkerDeadLetter(queueName, jobId, error, jobName);
      },
    });
    this.workerPoolManager = new WorkerPoolManagerImpl(ctx, {
      register: (queueName, processor, options) => this.workerManager.registerWorker(queueName, processor, options),
      unregister: (worker) => worker.close(),
      metrics: (queueName) => this.metricsCollector.engineQueueMetrics(queueName),
      workers: this.workerManager,
      bounds: (queueName) => this._typeScaling(queueName),
      registry,
    });
    this.workerManager.onWorkerClosed = (worker) => this.workerPoolManager.forget(worker);
    this.metricsCollector = new JobQueueMetricsImpl(ctx, { queues: this.queueManager, workers: this.workerManager, registry });
    this.healthChecker = new QueueHealthCheckerImpl(ctx, {
      queues: this.queueManager,
      metrics: this.metricsCollector,
      ping: () => this.ping(),
    });
    this.performanceOptimizer = new PerformanceOptimizerImpl(ctx, {
      metrics: this.metricsCollector,
      queues: this.queueManager,
      pools: this.workerPoolManager,
      bounds: (queueName) => this._typeScaling(queueName),
    });
    // the monitoring and performance settings' timers (each runs only when enabled); they
    // start when the coordinator connects, so merely loading the package touches no Redis
    this._periodic = [this.metricsCollector, this.healthChecker, this.performanceOptimizer, this.workerPoolManager];
  }

  /** `{minWorkers, maxWorkers}` of the queue's type (QUEUE_TYPES), if it has one. */
  _typeScaling(queueName) {
    const type = this.queueManager.declaredConfig(queueName)?.type ?? (QUEUE_TYPES[queueName] ? queueName : undefined);
    return type ? QUEUE_TYPES[type]?.scaling : undefined;
  }

  /**
   * The BullMQ Queue that createQueue/getQueue/getAllQueues hand out for a queue: on this
   * coordinator's connection, adding jobs with the coordinator's and the queue's job
   * defaults. `config` is the QueueConfig it was declared with (null if declared elsewhere
   * or not at all).
   */
  _queueObject(name, queueConfig) {
    const queue = new Queue(name, {
      prefix: this.config.redis.keyPrefix,
      defaultJobOptions: { ...this.config.defaultJobOptions, ...queueConfig?.defaultJobOptions },
      [ON_ENGINE]: () => this._engine(),
    });
    queue.config = queueConfig;
    return queue;
  }

  /** Connects to Redis. Every method calls it, so calling it yourself is optional. */
  initialize() {
    if (!this._connecting) {
      const r = this.config.redis;
      let tls;
      let topology;
      try {
        tls = tlsSettings(r.tls);
        topology = { ...topologySettings(r, 'redis'), ...waitSettings(r, 'redis') };
      } catch (err) {
        return Promise.reject(err);
      }
      this._connecting = call(
        connectNative({
          url: r.url,
          host: r.host,
          port: r.port,
          username: r.username,
          password: r.password,
          db: r.db,
          tls: tls.on,
          tlsMaterial: tls.material,
          prefix: r.keyPrefix,
          maxJobDataSize: this.config.security.maxJobDataSize,
          ...topology,
          ...retrySettings(r),
        }),
      ).then((native) => {
        this._native = native;
        for (const m of this._periodic) m.start();
        // the engine's own log events (Redis trouble, stalls, timeouts) join ours
        NativeEngine.setLogSink((line) => {
          const { level, msg, fields } = JSON.parse(line);
          this.logger[level](msg, fields);
        });
        return native;
      });
      this._connecting.catch(() => {
        this._connecting = null; // let a later call try again
      });
    }
    return this._connecting.then(() => undefined);
  }

  async _engine() {
    if (this._native) return this._native;
    await this.initialize();
    return this._native;
  }

  /**
   * Stops every worker (each waits up to `timeoutMs` for its running jobs, then gives the
   * rest back to the queue) and closes the connection so the process can exit.
   */
  async shutdown({ timeoutMs = 30000 } = {}) {
    await Promise.all(this._periodic.map((m) => m.stop()));
    this.workerPoolManager.clear();
    for (const watch of [...this._watches]) watch.close();
    await this.queueManager.close();
    await this.workerManager.closeAll(timeoutMs);
    if (this._connecting) await this._connecting.catch(() => {});
    if (this._native) this._native.close();
    this._native = null;
    this._connecting = null;
  }

  /**
   * Scales the queue's workers in this process to `targetCount`: its worker pool if it has
   * one, else more workers like the first one registered (or fewer). A ScalingResult.
   */
  scaleWorkers(queueName, targetCount) {
    if (this.workerPoolManager.has(queueName)) return this.workerPoolManager.scaleWorkerPool(queueName, targetCount);
    return this.workerManager.scaleWorkers(queueName, targetCount);
  }

  /**
   * A view of this coordinator for one client: its enqueue, view and manage calls are
   * checked against the client's permissions (`accessControl`) before anything happens, a
   * denial is an AuthorizationError (audited), its jobs carry the client's id (rate limits),
   * its workers run as the client, and the audit log names the client for what it does.
   */
  forClient(clientId) {
    return new ClientCoordinator(this, clientId);
  }

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
      queues: this.queueManager.declaredNames(),
      workers: this.workerManager.getWorkers().map((w) => ({ id: w.id, queueName: w.queueName, status: w.state })),
      pools: [...this.workerPoolManager.getAllWorkerPools().values()].map((p) => ({
        queueName: p.queueName,
        currentWorkers: p.currentWorkers,
        autoScaling: p.autoScaling,
      })),
      uptime: process.uptime(),
    };
  }

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
  }

  /** Round-trip latency to Redis in ms. */
  async ping() {
    const native = await this._engine();
    return call(native.ping());
  }

  /**
   * Wires SIGTERM and SIGINT to a graceful shutdown: stop fetching, let running jobs finish
   * for up to `timeoutMs`, give the rest back to the queue, close connections, then exit
   * with code 0 (or `exitCode`). Returns a function that removes the handlers.
   */
  installSignalHandlers({ timeoutMs = 30000, signals = ['SIGTERM', 'SIGINT'], exit = true, exitCode = 0 } = {}) {
    let stopping = false;
    const handler = async (signal) => {
      if (stopping) return;
      stopping = true;
      this.logger.info('shutting down', { signal, timeoutMs });
      let code = exitCode;
      try {
        await this.shutdown({ timeoutMs });
      } catch (err) {
        this.logger.error('shutdown failed', { error: err.message });
        code = 1;
      }
      if (exit) process.exit(code);
    };
    for (const s of signals) process.on(s, handler);
    return () => {
      for (const s of signals) process.removeListener(s, handler);
    };
  }
}

/**
 * The flat methods of the facade, by the manager that does the work. Each is
 * `coordinator.X(...args)` → `coordinator.<manager>.X(...args)`, so both paths behave alike.
 */
const DELEGATED = {
  queueManager: ['createQueue', 'getQueue', 'getAllQueues', 'refreshQueues', 'getQueueNames', 'destroyQueue', 'pauseQueue', 'resumeQueue', 'getQueueStatus'],
  jobScheduler: [
    'enqueueJob',
    'enqueueBulk',
    'scheduleJob',
    'scheduleRecurringJob',
    'getRecurringJobs',
    'getScheduledJobs',
    'cancelScheduledJob',
    'cancelJob',
    'updateJobPriority',
    'promoteJob',
    'changeDelay',
    'getJob',
    'getJobLogs',
    'retryJob',
  ],
  workerManager: [
    'registerWorker',
    'unregisterWorker',
    'closeWorker',
    'getWorkers',
    'getWorker',
    'getWorkersByQueue',
    'getWorkerStatus',
    'getAllWorkers',
    'getAllWorkerStatus',
    'pauseWorker',
    'resumeWorker',
  ],
  workerPoolManager: ['createWorkerPool', 'scaleWorkerPool', 'enableAutoScaling', 'disableAutoScaling', 'getWorkerPool', 'getAllWorkerPools'],
  retryHandler: ['getRetryStatistics', 'registerNonRetryableError'],
  deadLetterHandler: ['getFailedJobs', 'requeueFailedJob', 'archiveFailedJob', 'getArchivedJobs', 'purgeFailedJobs', 'getFailedJobStatistics'],
  metricsCollector: ['collectMetrics', 'getQueueMetrics', 'getWorkerMetrics', 'exportPrometheusMetrics'],
  healthChecker: ['checkQueueHealth', 'getAllQueuesHealth', 'getHealthRecommendations', 'getHealth'],
  performanceOptimizer: ['optimizeQueue', 'analyzeBottlenecks', 'recommendScaling'],
};

for (const [manager, methods] of Object.entries(DELEGATED)) {
  for (const method of methods) {
    Object.defineProperty(JobQueueCoordinator.prototype, method, {
      value: {
        [method](...args) {
          return this[manager][method](...args);
        },
      }[method],
      writable: true,
      configurable: true,
    });
  }
}

module.exports = { JobQueueCoordinator, QUEUE_TYPES, QueueEvents, DELEGATED };
