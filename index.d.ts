// Hand-written public types of @shared-infra/job-queue (the design's interfaces, seed 003).
// The native layer's generated types are in binding.d.ts; __test__/types checks both.

import { EventEmitter } from 'node:events';

export interface BackoffOptions {
  type: 'fixed' | 'exponential';
  /** Base delay in ms. */
  delay: number;
  /** Cap on the computed delay in ms; default the worker's retry.maxDelay (5 minutes). */
  maxDelay?: number;
  /** Fraction in [0, 1]: the delay is drawn from [d × (1 − jitter), d]. Default 0.1,
   * stored with the job (so BullMQ's workers apply it too); 0 means none. */
  jitter?: number;
}

export type KeepJobs = boolean | number | { age?: number; count?: number };

/** Job options in the design's spelling and BullMQ's; both may be mixed. */
export interface JobOptions {
  /** 0 (none) to 2,097,151; lower numbers run first. */
  priority?: number;
  delayMs?: number;
  delay?: number;
  /** Total attempts (the design's name). */
  maxRetries?: number;
  attempts?: number;
  backoffStrategy?: BackoffOptions;
  backoff?: number | BackoffOptions;
  lifo?: boolean;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  /** Custom id; adding an existing id returns the existing job and adds nothing. */
  jobId?: string;
  traceId?: string;
  /** An attempt running longer fails with TimeoutError (and follows the retry policy). */
  timeoutMs?: number;
  timestamp?: number;
  /** BullMQ's deduplication: while the job owning `id` is alive (or for `ttl` ms), adds with
   * the same id return that job and add nothing. */
  deduplication?: DeduplicationOptions;
  [key: string]: unknown;
}

export interface DeduplicationOptions {
  id: string;
  /** ms the id stays claimed; without it, until the owning job finishes. */
  ttl?: number;
  /** A dropped add restarts the ttl. */
  extend?: boolean;
  /** A new add replaces the owning job while that job is still delayed. */
  replace?: boolean;
}

export type ScheduleOptions = Pick<
  JobOptions,
  'priority' | 'delayMs' | 'maxRetries' | 'backoffStrategy' | 'removeOnComplete' | 'removeOnFail' | 'jobId' | 'traceId'
>;

/** Options of a recurring job; the rest are the job options each run gets. */
export interface RecurringJobOptions
  extends Omit<JobOptions, 'jobId' | 'delay' | 'delayMs' | 'repeat' | 'traceId'> {
  /** IANA time zone the cron expression is read in; default UTC. */
  timezone?: string;
  startDate?: Date | number | string;
  endDate?: Date | number | string;
  /** Stop after this many runs. */
  maxRuns?: number;
  /** Run the first time now instead of at the first fire time (cron only). */
  immediately?: boolean;
  /** The schedule's id; default the job name. Scheduling the same id again replaces it. */
  schedulerId?: string;
  /** Decided by the schedule. */
  jobId?: never;
  delay?: never;
  delayMs?: never;
  /** Kept finished runs; default 10 completed and 5 failed. */
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
}

/** A recurring job (a BullMQ job scheduler in Redis). */
export interface RepeatableJob {
  /** The scheduler id. */
  id: string;
  key: string;
  queueName: string;
  name: string;
  data: any;
  cronExpression: string | null;
  /** Interval in ms, for `{ every }` schedules. */
  every: number | null;
  timezone: string | null;
  options: JobOptions;
  /** When the next run is due. */
  nextRun: Date | null;
  /** Id of the job waiting for the next run (scheduleRecurringJob only). */
  jobId?: string;
  iterationCount?: number;
  maxRuns?: number | null;
  startDate?: Date | null;
  endDate?: Date | null;
}

export interface QueueConfig {
  name: string;
  /** A preset of seed 003 §5.1 ('photo-processing', 'batch-processing', 'maintenance');
   * a queue named like a preset gets it without this. */
  type?: string;
  concurrency?: number;
  rateLimit?: { max: number; duration: number };
  defaultJobOptions?: Partial<JobOptions>;
  stalledInterval?: number;
  retryProcessDelay?: number;
  maxStalledCount?: number;
  cleanup?: {
    enabled: boolean;
    removeOnComplete?: number;
    removeOnFail?: number;
    completedJobAge?: number;
    failedJobAge?: number;
    interval?: number;
  };
}

export interface WorkerOptions {
  concurrency?: number;
  connection?: unknown;
  rateLimiter?: { max: number; duration: number };
  limiter?: { max: number; duration: number };
  stalledInterval?: number;
  maxStalledCount?: number;
  /** ms a job's lock lives without renewal (renewed from Rust every half of it). */
  lockDuration?: number;
  /** Shown by BullMQ's getWorkers and stored as the job's processedBy. */
  name?: string;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  drainDelay?: number;
  /**
   * Jobs fetched ahead of free processing slots and held locked in Rust, so the next job
   * starts without a Redis round trip. `active` then counts up to concurrency + prefetch, and
   * a held job is not overtaken by a later higher-priority one. Default: one job while
   * attempts average under 5 ms and the worker has no limiter, none otherwise; 0 turns it off.
   */
  prefetch?: number;
  /** Attempt timeout for jobs that set no timeoutMs; the processor's context.signal aborts. */
  timeoutMs?: number;
  /** For stored backoffs that set none (BullMQ-added jobs): cap in ms (default 300000) and
   * jitter in [0, 1] (default 0, as BullMQ). */
  retry?: { maxDelay?: number; jitter?: number };
  /** Error classes (or names) that fail a job at once, besides UnrecoverableError. */
  nonRetryableErrors?: Array<string | (abstract new (...args: any[]) => Error)>;
  settings?: { stalledInterval?: number; retryProcessDelay?: number; maxStalledCount?: number };
}

/** The design's JobQueueCoordinatorConfig; every field optional. */
export interface JobQueueCoordinatorConfig {
  redis?:
    | string
    | {
        url?: string;
        host?: string;
        port?: number;
        username?: string;
        password?: string;
        db?: number;
        tls?: boolean | object;
        keyPrefix?: string;
        maxRetriesPerRequest?: number | null;
        retryDelayOnFailover?: number;
      };
  defaultJobOptions?: Partial<JobOptions>;
  defaultWorkerOptions?: {
    concurrency?: number;
    limiter?: { max: number; duration: number };
    lockDuration?: number;
    settings?: { stalledInterval?: number; retryProcessDelay?: number; maxStalledCount?: number };
  };
  security?: {
    maxJobDataSize?: number;
    maxJobAge?: number;
    enableJobValidation?: boolean;
    rateLimiting?: { enabled: boolean; maxJobsPerMinute: number };
  };
  monitoring?: {
    metricsCollection?: { enabled: boolean; interval: number };
    healthChecks?: { enabled: boolean; interval: number };
    /** More than `threshold` failed attempts of one job name within `windowMs` (default
     * 10 in 60 s) emits `failurePattern` and logs a warning. */
    failurePatterns?: { threshold?: number; windowMs?: number };
    /** Thresholds of checkQueueHealth. */
    health?: Partial<HealthThresholds>;
  };
  /** A pino-style logger ({ debug, info, warn, error }); default JSON lines on stderr at LOG_LEVEL. */
  logger?: Logger;
  performance?: {
    autoScaling?: { enabled: boolean; checkInterval: number; cooldownPeriod: number };
    optimization?: { enabled: boolean; analysisInterval: number };
  };
}

export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** A job as stored. */
export declare class Job<T = any> {
  id: string;
  name: string;
  data: T;
  opts: JobOptions;
  timestamp: number;
  delay: number;
  priority: number;
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
  processedOn?: number;
  finishedOn?: number;
  processedBy?: string;
  progress: number | object | string | boolean;
  returnvalue?: unknown;
  failedReason?: string;
  stacktrace: string[];
  queueName: string;
  /** The recurring job this job is a run of. */
  repeatJobKey?: string;
  /** The trace id it was scheduled with (scheduleJob). */
  readonly traceId?: string;
  /** Class name of the error that failed it for good. */
  errorName?: string;
  /** When it was archived (archiveFailedJob), ms. */
  archivedOn?: number;
}

/** A job waiting for its time (getScheduledJobs). */
export interface ScheduledJob<T = any> extends Job<T> {
  /** When it becomes runnable. */
  runAt: Date;
}

/** What enqueueJob / enqueueBulk return. */
export declare class AddedJob<T = any> {
  id: string;
  name: string;
  data: T;
  readonly opts: JobOptions;
  timestamp: number;
  queueName: string;
  readonly traceId?: string;
}

/** The job a processor receives. */
export declare class ActiveJob<T = any> extends Job<T> {
  /** The token the job's lock holds while this worker runs it. */
  token?: string;
  updateProgress(progress: number | object): Promise<void>;
  log(text: string): Promise<number>;
}

export interface JobProcessingContext {
  workerId: string;
  queueName: string;
  jobId: string;
  attemptNumber: number;
  startTime: number;
  /** Present when the attempt has a timeout; aborted (with a TimeoutError) when it passes. */
  signal?: AbortSignal;
}

export type JobProcessor<T = any, R = any> = (job: ActiveJob<T>, context: JobProcessingContext) => Promise<R> | R;

export interface WorkerStats {
  completed: number;
  failed: number;
  lastActivityMs: number;
  uptimeMs: number;
}

/** Options of `new Worker(name, processor, opts)` (BullMQ 6's WorkerOptions that act here). */
export interface BullWorkerOptions {
  /** A `redis://` / `rediss://` URL, ioredis-style options, or an ioredis instance (its
   * options are used); default 127.0.0.1:6379. */
  connection?: string | { host?: string; port?: number; username?: string; password?: string; db?: number; tls?: boolean | object; url?: string } | { options: object };
  /** Key prefix; default 'bull'. */
  prefix?: string;
  /** Jobs run at once; default 1. Can be changed later with `worker.concurrency = n`. */
  concurrency?: number;
  /** At most `max` jobs per `duration` ms across the queue's workers. */
  limiter?: { max: number; duration: number };
  /** ms a job's lock lives without renewal; default 30000. */
  lockDuration?: number;
  /** ms between stalled checks; default 30000. */
  stalledInterval?: number;
  /** Stalls after which a job fails; default 1. */
  maxStalledCount?: number;
  /** Longest wait, in seconds, for a job when the queue is empty; default 5. */
  drainDelay?: number;
  /** Start fetching at once; default true. Otherwise call `run()`. */
  autorun?: boolean;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  settings?: {
    /** Retry delay (ms) for backoff types other than 'fixed' and 'exponential'; -1 fails
     * the job for good. */
    backoffStrategy?: (attemptsMade: number, type: string, err: Error, job: ActiveJob) => number | Promise<number>;
  };
  /** Shown by BullMQ's getWorkers and stored as the job's processedBy. */
  name?: string;
}

/** BullMQ 6's Worker, run by the engine. */
export declare class Worker<T = any, R = any> extends EventEmitter {
  /** The error to throw from a processor, after `rateLimit(ms)`, to give the job back to the
   * queue without using an attempt. */
  static RateLimitError(): RateLimitError;
  constructor(name: string, processor?: JobProcessor<T, R> | null, opts?: BullWorkerOptions);
  /** Set once it runs. */
  readonly id: string;
  /** The queue's name (BullMQ's `worker.name`). */
  readonly name: string;
  readonly queueName: string;
  readonly opts: BullWorkerOptions & { prefix: string };
  /** Changing it acts at once. */
  concurrency: number;
  readonly closed: boolean;
  status: 'active' | 'paused' | 'closed';
  /** active, paused (here or by another process), error (its last Redis call failed) or closed. */
  readonly state: 'active' | 'paused' | 'error' | 'closed';
  registeredAt: Date;
  /** Starts processing (autorun false); resolves when the worker has closed. */
  run(): Promise<void>;
  waitUntilReady(): Promise<void>;
  isRunning(): boolean;
  isPaused(): boolean;
  /** Stops fetching; resolves once running jobs are settled (at once with doNotWaitActive). */
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): void;
  /** Fetches no job for `expireTimeMs`. */
  rateLimit(expireTimeMs: number): Promise<void>;
  stats(): WorkerStats;
  /** Waits for running jobs; `force`: gives them back to the queue at once; a number: waits
   * at most that many ms, then gives back what still runs. */
  close(force?: boolean | number): Promise<void>;
  on(event: 'active', listener: (job: ActiveJob<T>, prev: string) => void): this;
  on(event: 'completed', listener: (job: ActiveJob<T>, result: R, prev: string) => void): this;
  on(event: 'failed', listener: (job: ActiveJob<T> | undefined, error: Error, prev: string, info: { retrying: boolean; name: string; jobId: string }) => void): this;
  on(event: 'progress', listener: (job: ActiveJob<T>, progress: number | object) => void): this;
  on(event: 'stalled', listener: (jobId: string, prev: string) => void): this;
  on(event: 'closing', listener: (msg: string) => void): this;
  on(event: 'drained' | 'ready' | 'closed' | 'paused' | 'resumed', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

export interface JobCounts {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  prioritized: number;
}

export interface QueueStatus {
  name: string;
  isPaused: boolean;
  jobCounts: JobCounts;
  /** The same object as jobCounts. */
  counts: JobCounts;
  /** Workers connected to Redis for this queue, from any process (ours or BullMQ's). */
  workers: number;
  /** Jobs finished per second over the last minute. */
  processingRate: number;
  /** Mean processing time (finishedOn − processedOn) of recent jobs, ms. */
  averageProcessingTime: number;
}

export interface BulkJob<T = any> {
  name?: string;
  data: T;
  options?: JobOptions;
}

export declare class JobQueueCoordinator extends EventEmitter {
  constructor(config?: JobQueueCoordinatorConfig);
  readonly config: JobQueueCoordinatorConfig;
  initialize(): Promise<void>;
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  createQueue(config: QueueConfig): Promise<{ name: string; config: QueueConfig }>;
  createQueue(name: string, config: Omit<QueueConfig, 'name'>): Promise<{ name: string; config: QueueConfig }>;
  /** Every queue of the key prefix (declared, or in use by anyone), from Redis. */
  getAllQueues(): Promise<Map<string, { name: string; config: QueueConfig | null }>>;
  /** Deletes the queue and all its keys; refused while jobs are active unless force. */
  destroyQueue(name: string, options?: { force?: boolean }): Promise<void>;
  /** Pauses the queue for every worker of every process (BullMQ's too). */
  pauseQueue(name: string): Promise<void>;
  resumeQueue(name: string): Promise<void>;
  unregisterWorker(workerId: string, options?: { timeoutMs?: number }): Promise<void>;
  getWorkerStatus(workerId: string): Promise<WorkerStatus>;
  /** Workers of every process, from the registry in Redis. */
  getAllWorkers(queueName?: string): Promise<WorkerStatus[]>;
  pauseWorker(workerId: string): Promise<void>;
  resumeWorker(workerId: string): Promise<void>;
  createWorkerPool<T = any, R = any>(queueName: string, config: WorkerPoolConfig<T, R>): Promise<WorkerPool>;
  scaleWorkerPool(queueName: string, targetWorkers: number): Promise<ScalingResult>;
  scaleWorkers(queueName: string, targetCount: number): Promise<ScalingResult>;
  enableAutoScaling(queueName: string, policy: Partial<AutoScalingPolicy>): Promise<void>;
  disableAutoScaling(queueName: string): Promise<void>;
  getWorkerPool(queueName: string): WorkerPool | null;
  getAllWorkerPools(): Map<string, WorkerPool>;
  /** SIGTERM/SIGINT → graceful shutdown, then exit; returns a function removing the handlers. */
  installSignalHandlers(options?: { timeoutMs?: number; signals?: NodeJS.Signals[]; exit?: boolean; exitCode?: number }): () => void;
  getQueue(name: string): { name: string; config: QueueConfig } | null;
  enqueueJob<T extends object>(queueName: string, data: T, options?: JobOptions): Promise<AddedJob<T>>;
  enqueueJob<T extends object>(queueName: string, jobName: string, data: T, options?: JobOptions): Promise<AddedJob<T>>;
  enqueueBulk<T extends object>(queueName: string, jobs: BulkJob<T>[]): Promise<AddedJob<T>[]>;
  registerWorker<T = any, R = any>(queueName: string, processor: JobProcessor<T, R>, options?: WorkerOptions): Promise<Worker>;
  getWorkers(queueName?: string): Worker[];
  getQueueStatus(queueName: string): Promise<QueueStatus>;
  getFailedJobs(queueName: string, range?: { start?: number; end?: number } | number): Promise<Job[]>;
  getJob(queueName: string, jobId: string): Promise<Job | null>;
  getJobLogs(queueName: string, jobId: string): Promise<string[]>;
  retryJob(queueName: string, jobId: string): Promise<void>;
  retryJob(jobId: string): Promise<void>;
  ping(): Promise<number>;

  /** Adds a job with a trace id (given or generated), visible to the processor as job.traceId. */
  scheduleJob<T extends object>(queueName: string, jobName: string, data: T, options?: ScheduleOptions): Promise<AddedJob<T>>;
  /** Creates or replaces a recurring job: a cron expression (5 fields, or 6 with seconds) or { every: ms }. */
  scheduleRecurringJob<T extends object>(
    queueName: string,
    jobName: string,
    data: T,
    cronExpression: string | { every: number },
    options?: RecurringJobOptions,
  ): Promise<RepeatableJob>;
  /** Recurring jobs of the queue (ours and BullMQ's job schedulers), soonest first. */
  getRecurringJobs(queueName: string): Promise<RepeatableJob[]>;
  /** Delayed jobs and the next run of each recurring job, soonest first. */
  getScheduledJobs(queueName: string, range?: { start?: number; end?: number }): Promise<ScheduledJob[]>;
  /** Cancels a recurring job (by its id or a run's id) or a job that has not started. */
  cancelScheduledJob(queueName: string, idOrKey: string): Promise<void>;
  updateJobPriority(queueName: string, jobId: string, priority: number): Promise<void>;
  /** Makes a delayed job runnable now. */
  promoteJob(queueName: string, jobId: string): Promise<void>;
  /** Makes a delayed job due delayMs from now. */
  changeDelay(queueName: string, jobId: string, delayMs: number): Promise<void>;

  /** Moves a dead letter back to waiting with fresh attempts. */
  requeueFailedJob(queueName: string, jobId: string): Promise<void>;
  /** Keeps a dead letter but takes it off the failed list. */
  archiveFailedJob(queueName: string, jobId: string): Promise<void>;
  getArchivedJobs(queueName: string, range?: { start?: number; end?: number }): Promise<Job[]>;
  /** Deletes dead letters (those failed before a Date, or older than an age in ms); resolves to the count. */
  purgeFailedJobs(queueName: string, olderThan?: Date | number): Promise<number>;
  getFailedJobStatistics(queueName: string): Promise<FailedJobStatistics>;
  getRetryStatistics(queueName: string): Promise<RetryStatistics>;
  /** Error classes (or names) that fail jobs at once in this coordinator's workers. */
  registerNonRetryableError(error: string | (abstract new (...args: any[]) => Error)): void;
  readonly logger: { enabled(level: string): boolean; debug(msg: string, fields?: object): void; info(msg: string, fields?: object): void; warn(msg: string, fields?: object): void; error(msg: string, fields?: object): void };
  on(event: 'failurePattern', listener: (pattern: FailurePattern) => void): this;
  on(event: 'completed' | 'failed' | 'stalled' | 'progress', listener: (e: { queueName: string; jobId: string; detail?: unknown }) => void): this;
  on(event: 'active' | 'waiting' | 'delayed', listener: (e: { queueName: string; jobId: string; name: string }) => void): this;
  on(event: 'paused' | 'resumed' | 'drained', listener: (e: { queueName: string }) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;

  /** The queue's metrics, from Redis (every process's workers count). */
  getQueueMetrics(queueName: string): Promise<QueueMetrics>;
  getWorkerMetrics(): Promise<WorkerMetrics>;
  getWorkerMetrics(workerId: string): Promise<WorkerStatus>;
  collectMetrics(): Promise<MetricsSnapshot>;
  /** Prometheus text exposition (version 0.0.4) of every queue, and this process. */
  exportPrometheusMetrics(): Promise<string>;
  checkQueueHealth(queueName: string, thresholds?: Partial<HealthThresholds>): Promise<QueueHealthStatus>;
  getAllQueuesHealth(): Promise<Map<string, QueueHealthStatus>>;
  getHealthRecommendations(queueName: string): Promise<HealthRecommendation[]>;
  getHealth(): Promise<{ status: HealthStatus; redis: { connected: boolean; latencyMs?: number; error?: string }; queues: Record<string, HealthStatus>; checkedAt: Date }>;
  getStatus(): Promise<{ redis: { connected: boolean; latencyMs?: number; error?: string }; prefix: string; queues: string[]; workers: Array<{ id: string; queueName: string; status: string }>; pools: Array<{ queueName: string; currentWorkers: number; autoScaling: boolean }>; uptime: number }>;
  /** Follows the queue's Redis events stream (events of every process, BullMQ's too). */
  events(queueName: string): Promise<QueueEvents>;
}

/** What BullMQ 6's QueueEvents passes for each event: `(args, eventId)`. */
export interface QueueEventsListener<R = any> {
  active: (args: { jobId: string; prev?: string }, id: string) => void;
  added: (args: { jobId: string; name: string }, id: string) => void;
  cleaned: (args: { count: string }, id: string) => void;
  completed: (args: { jobId: string; returnvalue: R; prev?: string }, id: string) => void;
  deduplicated: (args: { jobId: string; deduplicationId: string; deduplicatedJobId: string }, id: string) => void;
  delayed: (args: { jobId: string; delay: number }, id: string) => void;
  drained: (id: string) => void;
  duplicated: (args: { jobId: string }, id: string) => void;
  error: (error: Error) => void;
  failed: (args: { jobId: string; failedReason: string; prev?: string }, id: string) => void;
  paused: (args: object, id: string) => void;
  progress: (args: { jobId: string; data: number | object }, id: string) => void;
  removed: (args: { jobId: string; prev: string }, id: string) => void;
  resumed: (args: object, id: string) => void;
  'retries-exhausted': (args: { jobId: string; attemptsMade: string }, id: string) => void;
  stalled: (args: { jobId: string }, id: string) => void;
  waiting: (args: { jobId: string; prev?: string }, id: string) => void;
  'waiting-children': (args: { jobId: string }, id: string) => void;
  /** Ours: every entry. */
  event: (name: string, args: Record<string, any>, id: string) => void;
  closed: () => void;
}

/** BullMQ 6's QueueEvents: a queue's Redis events stream (every process's, BullMQ's too). */
export declare class QueueEvents<R = any> extends EventEmitter {
  constructor(name: string, opts?: {
    connection?: BullWorkerOptions['connection'];
    prefix?: string;
    autorun?: boolean;
    /** '$' (default): from when it starts; or a stream id to read after. */
    lastEventId?: string;
    /** ms each read of the stream waits; default 10000. */
    blockingTimeout?: number;
  });
  readonly name: string;
  readonly queueName: string;
  readonly closed: boolean;
  /** Starts following the stream (autorun false); resolves when closed. */
  run(): Promise<void>;
  waitUntilReady(): Promise<void>;
  close(): Promise<void>;
  on<U extends keyof QueueEventsListener<R>>(event: U, listener: QueueEventsListener<R>[U]): this;
  /** `<event>:<jobId>`: one job's events. */
  on(event: string, listener: (args: Record<string, any>, id: string) => void): this;
}

/** The logger the coordinator uses: JSON lines on `stream` at `level` (default LOG_LEVEL, info), or a pino-style `target`. */
export declare function createLogger(options?: { target?: Logger; level?: string; stream?: { write(line: string): unknown } }): {
  /** Whether entries at this level are kept. */
  enabled(level: string): boolean;
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
};

export interface Latency {
  average: number;
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

export interface QueueMetrics {
  name: string;
  isPaused: boolean;
  jobCounts: JobCounts & { waitingChildren: number };
  workers: number;
  /** Jobs completed / failed for good per minute, the current minute first. */
  completedPerMinute: number[];
  failedPerMinute: number[];
  /** Completed jobs/s over the last 5 minutes. */
  throughput: number;
  /** Finished jobs/s over the last minute. */
  processingRate: number;
  averageProcessingTime: number;
  errorRate: number;
  processingTime: Latency;
  waitTime: Latency;
  stalled: number;
  oldestWaitingMs: number;
  byJobType: Record<string, { completed: number; failed: number; deadLetter: number; retried: number }>;
}

export interface WorkerMetrics {
  totalWorkers: number;
  activeWorkers: number;
  workersByQueue: Record<string, number>;
  averageJobsPerWorker: number;
  workers: WorkerStatus[];
}

export interface MetricsSnapshot {
  timestamp: Date;
  queues: Map<string, QueueMetrics>;
  workers: WorkerMetrics;
  system: {
    memory: { heapUsed: number; heapTotal: number; external: number; rss: number };
    cpu: { user: number; system: number };
    uptime: number;
  };
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

export interface HealthThresholds {
  /** Waiting jobs above which the queue is degraded (default 1000). */
  maxWaiting: number;
  /** Default 0.1. */
  maxErrorRate: number;
  /** ms the next job may have waited (default 300000). */
  maxWaitTime: number;
}

export interface HealthIssue {
  severity: 'info' | 'warning' | 'critical';
  rule: 'high_depth' | 'no_workers' | 'error_rate' | 'paused' | 'long_wait' | 'not_found';
  message: string;
}

export interface QueueHealthStatus {
  queueName: string;
  status: HealthStatus;
  message: string;
  metrics: {
    jobCounts: { active: number; waiting: number; completed: number; failed: number; delayed: number };
    activeWorkers: number;
    isPaused: boolean;
    processingRate: number;
    averageWaitTime: number;
    oldestWaitingMs: number;
    errorRate: number;
  } | null;
  issues: HealthIssue[];
}

export interface HealthRecommendation {
  type: 'scale_workers' | 'adjust_settings' | 'investigate_errors' | 'resume_queue';
  priority: 'low' | 'medium' | 'high';
  description: string;
  action: string;
}

export interface WorkerStatus {
  id: string;
  queueName: string;
  status: 'active' | 'paused' | 'error' | 'stale' | 'closed';
  processedJobs: number;
  failedJobs: number;
  registeredAt: Date;
  /** ms since it started. */
  uptime: number;
  lastActivity: Date | null;
  lastHeartbeat?: Date;
  pid: number;
  host?: string;
  concurrency?: number;
  name?: string;
}

export interface WorkerPoolConfig<T = any, R = any> {
  minWorkers: number;
  maxWorkers: number;
  initialWorkers?: number;
  autoScaling?: boolean;
  processor: JobProcessor<T, R>;
  workerOptions?: WorkerOptions;
}

export interface WorkerPool {
  queueName: string;
  minWorkers: number;
  maxWorkers: number;
  currentWorkers: number;
  targetWorkers: number;
  autoScaling: boolean;
  lastScalingEvent?: Date;
  workerIds: string[];
  history: Array<{ at: Date; from: number; to: number; reason: string }>;
}

export interface AutoScalingPolicy {
  /** Drain the backlog within this many ms (default 60000). */
  targetProcessingTime: number;
  scalingFactor: number;
  scaleUpCooldown: number;
  scaleDownCooldown: number;
  maxScaleUpStep: number;
  maxScaleDownStep: number;
  /** How often the queue is checked, ms (default 30000). */
  checkInterval: number;
}

export interface ScalingResult {
  queueName: string;
  previousCount: number;
  targetCount: number;
  actualCount: number;
  action: 'scaled_up' | 'scaled_down' | 'no_change';
}

/** The queue-type presets of seed 003 §5.1. */
export declare const QUEUE_TYPES: Record<string, QueueConfig & {
  displayName: string;
  description: string;
  jobTypes: string[];
  scaling: { minWorkers: number; maxWorkers: number; scalingThreshold: number };
}>;

export interface FailedJobStatistics {
  total: number;
  /** How many of the newest dead letters (at most 10,000) the breakdowns read. */
  sampled: number;
  byJobName: Record<string, number>;
  byErrorType: Record<string, number>;
  oldestFailure: Date | null;
  newestFailure: Date | null;
  /** Jobs failed for good in the last 15 minutes, and per minute over them. */
  recentFailures: number;
  recentFailureRate: number;
}

export interface RetryStatistics {
  totalRetries: number;
  /** Retries by the attempt number that failed. */
  byAttempt: Record<string, number>;
  byErrorType: Record<string, number>;
  /** Mean delay before a retry, ms. */
  averageRetryDelay: number;
  retriedSucceeded: number;
  retriedFailed: number;
  /** retriedSucceeded / (retriedSucceeded + retriedFailed). */
  retrySuccessRate: number;
}

export interface FailurePattern {
  queueName: string;
  jobName: string;
  failures: number;
  windowMs: number;
  threshold: number;
}

/** The default coordinator, configured from the environment; connects on first use. */
export declare const jobCoordinator: JobQueueCoordinator;

export declare class JobQueueError extends Error {
  readonly code: string;
}
export declare class ValidationError extends JobQueueError {
  /** The option or argument that was rejected. */
  readonly field?: string;
}
export declare class JobStateError extends ValidationError {}
export declare class QueueNotFoundError extends JobQueueError {
  readonly queueName: string;
}
export declare class QueueExistsError extends JobQueueError {
  readonly queueName: string;
}
export declare class JobNotFoundError extends JobQueueError {}
export declare class WorkerNotFoundError extends JobQueueError {
  readonly workerId: string;
}
export declare class ConnectionError extends JobQueueError {}
export declare class LockError extends JobQueueError {}
export declare class CorruptJobError extends JobQueueError {}
export declare class ClosedError extends JobQueueError {}
/** What an attempt that ran past its timeout fails with (code ERR_TIMEOUT). */
export declare class TimeoutError extends JobQueueError {}
/** Throw from a processor to fail the job at once, without retries. */
export declare class UnrecoverableError extends Error {
  readonly code: 'ERR_UNRECOVERABLE';
}
/** Thrown by a processor (`throw Worker.RateLimitError()`) after `worker.rateLimit(ms)`: the job
 * goes back to the queue without using an attempt. */
export declare class RateLimitError extends Error {
  readonly code: 'ERR_RATE_LIMIT';
}
