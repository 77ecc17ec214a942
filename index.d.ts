// Hand-written public types of @shared-infra/job-queue (the design's interfaces, seed 003).
// The native layer's generated types are in binding.d.ts; __test__/types checks both.

import { EventEmitter } from 'node:events';
import type { NativeEngine } from './binding';

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
   * a held job is not overtaken by a later higher-priority one. Default 0: none, as BullMQ.
   * `'auto'`: one job while attempts average under 5 ms and the worker has no limiter.
   */
  prefetch?: number | 'auto';
  /** Attempt timeout for jobs that set no timeoutMs; the processor's context.signal aborts. */
  timeoutMs?: number;
  /** For stored backoffs that set none (BullMQ-added jobs): cap in ms (default 300000) and
   * jitter in [0, 1] (default 0, as BullMQ). */
  retry?: { maxDelay?: number; jitter?: number };
  /** Error classes (or names) that fail a job at once, besides UnrecoverableError. */
  nonRetryableErrors?: Array<string | (abstract new (...args: any[]) => Error)>;
  /** `retryProcessDelay`: ms to wait after a failed round trip to Redis before the next
   * (else the queue's, else the coordinator's default, 5000). */
  settings?: { stalledInterval?: number; retryProcessDelay?: number; maxStalledCount?: number };
}

/** The design's JobQueueCoordinatorConfig; every field optional. A field left out comes from
 * the environment (the design's variable names), else from the design's default. */
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
        /** Retries of a command while the connection is down before it fails with
         * ConnectionError (default 20); null waits until Redis is back (as ioredis). */
        maxRetriesPerRequest?: number | null;
        /** ms between those retries (default 100). */
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

/**
 * What a job needs of its queue: the queue name, the key prefix and the connected engine.
 * Queue and Worker objects are handles; so is the coordinator's per-queue handle.
 */
export interface JobQueueHandle {
  name: string;
  prefix?: string;
  native(): Promise<unknown>;
  /** When present, `updateProgress` emits `progress` (job, progress) and `remove` emits `removed` (job). */
  emit?(event: string, ...args: any[]): boolean;
}

export type JobState = 'completed' | 'failed' | 'delayed' | 'active' | 'waiting' | 'waiting-children' | 'prioritized' | 'unknown';
export type JobProgress = number | object | string | boolean;

/** BullMQ's job JSON as its `Job.fromJSON` takes it: `data`, `returnvalue` and `stacktrace` as JSON text. */
export interface JobJson {
  id?: string;
  name: string;
  data: string;
  opts?: JobOptions & Record<string, any>;
  progress?: JobProgress;
  attemptsMade?: number;
  attemptsStarted?: number;
  stalledCounter?: number;
  finishedOn?: number;
  processedOn?: number;
  timestamp: number;
  failedReason?: string;
  stacktrace?: string;
  returnvalue?: string;
  repeatJobKey?: string;
  deduplicationId?: string;
  deferredFailure?: string;
  processedBy?: string;
  delay?: number;
  priority?: number;
}

/** A waiter's view of a QueueEvents: BullMQ's, or this package's. */
export interface QueueEventsLike {
  on(event: 'completed', listener: (args: { jobId: string; returnvalue: any; prev?: string }) => void): any;
  on(event: 'failed', listener: (args: { jobId: string; failedReason: string; prev?: string }) => void): any;
  removeListener(event: string, listener: (...args: any[]) => void): any;
  waitUntilReady?(): Promise<unknown>;
}

/** BullMQ 6's Job, on this package's engine. */
export declare class Job<T = any, R = any> {
  /** BullMQ's form: builds a job object without adding it. */
  constructor(queue: JobQueueHandle, name: string, data: T, opts?: JobOptions & Record<string, any>, id?: string);
  /** The stored job, or undefined. */
  static fromId<T = any, R = any>(queue: JobQueueHandle, jobId: string | number | undefined): Promise<Job<T, R> | undefined>;
  static fromJSON<T = any, R = any>(queue: JobQueueHandle, json: JobJson, jobId?: string): Job<T, R>;
  /** A job from the engine's job JSON (internal: what the engine's getJob returns, parsed). */
  static fromStored<T = any, R = any>(queue: JobQueueHandle, fields: object): Job<T, R>;

  /** The queue handle (not enumerable, not in JSON). */
  queue: JobQueueHandle;
  readonly prefix?: string;
  id: string;
  name: string;
  data: T;
  opts: JobOptions & Record<string, any>;
  timestamp: number;
  delay: number;
  priority: number;
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
  processedOn?: number | null;
  finishedOn?: number | null;
  processedBy?: string;
  progress: JobProgress;
  /** The processor's result; null until it completes. */
  returnvalue: R | null;
  failedReason?: string | null;
  stacktrace: string[] | null;
  queueName: string;
  /** The job scheduler (recurring job) this job is a run of. */
  repeatJobKey?: string;
  deduplicationId?: string;
  deferredFailure?: string;
  /** The lock token, set by the worker running the job. */
  token?: string;
  /** Set by discard(): a failure of the running attempt is final. */
  discarded?: boolean;
  /** The trace id it was scheduled with (scheduleJob). */
  readonly traceId?: string;
  /** Class name of the error that failed it for good. */
  errorName?: string;
  /** When it was archived (archiveFailedJob), ms. */
  archivedOn?: number;

  updateProgress(progress: JobProgress): Promise<void>;
  updateData(data: T): Promise<void>;
  /** Appends a row to the job's log (kept to `opts.keepLogs`); resolves to the row count. */
  log(logRow: string): Promise<number>;
  getState(): Promise<JobState>;
  isCompleted(): Promise<boolean>;
  isFailed(): Promise<boolean>;
  isActive(): Promise<boolean>;
  isWaiting(): Promise<boolean>;
  isDelayed(): Promise<boolean>;
  isWaitingChildren(): Promise<boolean>;
  /** Refused (JobStateError) while a worker holds the job, or for a scheduler's next run. */
  remove(opts?: { removeChildren?: boolean }): Promise<void>;
  retry(state?: 'completed' | 'failed', opts?: { resetAttemptsMade?: boolean; resetAttemptsStarted?: boolean }): Promise<void>;
  promote(): Promise<void>;
  changeDelay(delay: number): Promise<void>;
  changePriority(opts: { priority?: number; lifo?: boolean }): Promise<void>;
  /** 1 if the lock was renewed, 0 if `token` does not hold it. */
  extendLock(token: string, duration: number): Promise<number>;
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
  discard(): void;
  waitUntilFinished(queueEvents: QueueEventsLike, ttl?: number): Promise<R>;
  toJSON(): Record<string, any>;
  asJSON(): Record<string, any>;
}

/** A job waiting for its time (getScheduledJobs). */
export interface ScheduledJob<T = any> extends Job<T> {
  /** When it becomes runnable. */
  runAt: Date;
}

/** What enqueueJob / enqueueBulk return: a Job whose options are parsed on first read. */
export declare class AddedJob<T = any> extends Job<T> {
  constructor(id: string, name: string, data: T, optsText: string, timestamp: number, queueName: string, queue?: JobQueueHandle);
}

/** The job a processor of the coordinator's worker receives. */
export declare class ActiveJob<T = any> extends Job<T> {}

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

export declare class Worker extends EventEmitter {
  readonly id: string;
  readonly queueName: string;
  status: 'active' | 'paused' | 'closed';
  /** active, paused (here or by another process), error (its last Redis call failed) or closed. */
  readonly state: 'active' | 'paused' | 'error' | 'closed';
  registeredAt: Date;
  pause(): void;
  resume(): void;
  stats(): WorkerStats;
  close(timeoutMs?: number): Promise<void>;
  on(event: 'completed', listener: (jobId: string, result: unknown) => void): this;
  on(event: 'failed', listener: (jobId: string, error: Error, info: { retrying: boolean; name: string }) => void): this;
  on(event: 'active', listener: (job: ActiveJob) => void): this;
  on(event: 'stalled', listener: (jobId: string) => void): this;
  on(event: 'progress', listener: (jobId: string, progress: unknown) => void): this;
  on(event: 'drained', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'closed', listener: () => void): this;
}

/** A job state by BullMQ's name (`wait` is `waiting`; `paused` is BullMQ 5's paused list). */
export type JobType =
  | 'active'
  | 'completed'
  | 'delayed'
  | 'failed'
  | 'prioritized'
  | 'waiting'
  | 'wait'
  | 'paused'
  | 'waiting-children';

/** A BullMQ `connection`: a URL, ioredis-style options, or an ioredis instance. */
export type QueueConnection =
  | string
  | { url?: string; host?: string; port?: number; username?: string; password?: string; db?: number; tls?: boolean | object }
  | { options: object };

export interface QueueOptions {
  connection?: QueueConnection;
  /** Key prefix, default `bull`. */
  prefix?: string;
  defaultJobOptions?: JobOptions;
  streams?: { events?: { maxLen?: number } };
}

export interface RepeatOptions {
  pattern?: string;
  every?: number;
  tz?: string;
  startDate?: Date | number | string;
  endDate?: Date | number | string;
  limit?: number;
  immediately?: boolean;
}

export interface JobSchedulerJson<T = any> {
  key: string;
  name: string;
  next?: number;
  iterationCount?: number;
  limit?: number;
  startDate?: number;
  endDate?: number;
  tz?: string;
  pattern?: string;
  every?: number;
  offset?: number;
  template?: { data?: T; opts?: JobOptions };
}

export interface QueueMetricsSeries {
  meta: { count: number; prevTS: number; prevCount: number };
  /** Jobs finished per minute, newest minute first. */
  data: number[];
  count: number;
}

/** BullMQ 6's Queue on this package's engine; it shares queues with BullMQ. */
export declare class Queue<T = any> extends EventEmitter {
  constructor(name: string, opts?: QueueOptions);
  readonly name: string;
  readonly prefix: string;
  readonly qualifiedName: string;
  readonly opts: QueueOptions;
  readonly defaultJobOptions: JobOptions;
  /** The engine this queue talks through (the queue handle of jobs). */
  native(): Promise<NativeEngine>;
  waitUntilReady(): Promise<NativeEngine>;
  toKey(type: string): string;
  add(name: string, data?: T, opts?: JobOptions): Promise<Job<T>>;
  addBulk(jobs: { name: string; data?: T; opts?: JobOptions }[]): Promise<Job<T>[]>;
  getJob(jobId: string): Promise<Job<T> | undefined>;
  getJobs(types?: JobType | JobType[], start?: number, end?: number, asc?: boolean): Promise<Job<T>[]>;
  getJobCounts(...types: JobType[]): Promise<Record<string, number>>;
  getJobCountByTypes(...types: JobType[]): Promise<number>;
  count(): Promise<number>;
  getWaiting(start?: number, end?: number): Promise<Job<T>[]>;
  getActive(start?: number, end?: number): Promise<Job<T>[]>;
  getDelayed(start?: number, end?: number): Promise<Job<T>[]>;
  getPrioritized(start?: number, end?: number): Promise<Job<T>[]>;
  getWaitingChildren(start?: number, end?: number): Promise<Job<T>[]>;
  getCompleted(start?: number, end?: number): Promise<Job<T>[]>;
  getFailed(start?: number, end?: number): Promise<Job<T>[]>;
  getWaitingCount(): Promise<number>;
  getActiveCount(): Promise<number>;
  getDelayedCount(): Promise<number>;
  getPrioritizedCount(): Promise<number>;
  getWaitingChildrenCount(): Promise<number>;
  getCompletedCount(): Promise<number>;
  getFailedCount(): Promise<number>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  drain(delayed?: boolean): Promise<void>;
  clean(grace: number, limit: number, type?: 'completed' | 'failed' | 'delayed' | 'prioritized' | 'wait' | 'waiting' | 'paused' | 'active'): Promise<string[]>;
  obliterate(opts?: { force?: boolean; count?: number }): Promise<void>;
  remove(jobId: string, opts?: { removeChildren?: boolean }): Promise<number>;
  retryJobs(opts?: { count?: number; state?: 'failed' | 'completed'; timestamp?: number }): Promise<void>;
  promoteJobs(opts?: { count?: number }): Promise<void>;
  upsertJobScheduler(jobSchedulerId: string, repeatOpts: RepeatOptions, jobTemplate?: { name?: string; data?: T; opts?: JobOptions }): Promise<Job<T> | undefined>;
  getJobSchedulers(start?: number, end?: number, asc?: boolean): Promise<JobSchedulerJson<T>[]>;
  getJobScheduler(id: string): Promise<JobSchedulerJson<T> | undefined>;
  getJobSchedulersCount(): Promise<number>;
  removeJobScheduler(jobSchedulerId: string): Promise<boolean>;
  getWorkers(): Promise<Record<string, string>[]>;
  getWorkersCount(): Promise<number>;
  getMetrics(type: 'completed' | 'failed', start?: number, end?: number): Promise<QueueMetricsSeries>;
  trimEvents(maxLength: number): Promise<number>;
  close(): Promise<void>;
  on(event: 'waiting', listener: (job: Job<T>) => void): this;
  on(event: 'paused' | 'resumed', listener: () => void): this;
  on(event: 'cleaned', listener: (jobs: string[], type: string) => void): this;
  on(event: 'removed', listener: (jobId: string) => void): this;
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

/** A queue's events stream: `(eventName, {jobId, ...fields, id, queueName})`, and `event` for each. */
export declare class QueueEvents extends EventEmitter {
  readonly queueName: string;
  close(): void;
  on(event: 'event', listener: (name: string, payload: Record<string, string>) => void): this;
  on(event: string, listener: (payload: Record<string, string> & { id: string; jobId?: string; queueName: string }) => void): this;
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

/** The design's name of the coordinator class. */
export declare const JobQueueCoordinatorImpl: typeof JobQueueCoordinator;
export declare class QueueManagerImpl {}
export declare class JobSchedulerImpl {}
export declare class WorkerManagerImpl {}
export declare class ManagedWorker {}
export declare class WorkerPoolManagerImpl {}
export declare class RetryHandlerImpl {}
export declare class DeadLetterHandlerImpl {}
export declare class JobQueueMetricsImpl {}
export declare class QueueHealthCheckerImpl {}
