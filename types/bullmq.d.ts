// BullMQ 6's public classes (Queue, Worker, Job, QueueEvents) as this package provides them on
// its own engine, with the option and event types they use. Written for this package: nothing
// here is imported from 'bullmq', which is not a dependency. Results the engine hands over as
// they are reuse the types generated from the binding (binding.d.ts).

import { EventEmitter } from 'node:events';
import type { MetricsSeriesResult, WorkerStatsJs } from '../binding';
import type { BackoffOptions, JobProcessingContext, WorkerProcessor } from './design';

// ---------------------------------------------------------------------------------------------
// Connections

/** ioredis-style connection options (the subset the engine reads; other keys are accepted). */
export interface RedisOptions {
  /** `redis://` or `rediss://` URL; wins over host/port. */
  url?: string;
  host?: string;
  port?: number;
  family?: number;
  db?: number;
  username?: string;
  password?: string;
  connectionName?: string;
  keyPrefix?: string;
  enableOfflineQueue?: boolean;
  maxRetriesPerRequest?: number | null;
  retryStrategy?: (times: number) => number | void | null;
  lazyConnect?: boolean;
  /** `true` or TLS options: either turns TLS on. */
  tls?: boolean | object;
  /** A Redis Cluster's seed nodes (queues need a hash tag in their name or prefix). */
  cluster?: { nodes: Array<{ host?: string; port?: number } | string | number> } | Array<{ host?: string; port?: number } | string | number>;
  /** ioredis' Sentinel options: the sentinels, the master set's name, their own login. */
  sentinels?: Array<{ host?: string; port?: number } | string | number>;
  name?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** Only 'master' is accepted: a queue writes. */
  role?: 'master';
  /** Replication-acknowledged adds: WAIT for `replicas` replicas, at most `timeout` ms. */
  wait?: { replicas: number; timeout?: number };
  [key: string]: any;
}

/** An ioredis client or Cluster (or anything keeping its connection options in `.options`):
 * the engine connects its own clients the same way. */
export interface RedisClientLike {
  /** What it was made with (ioredis options; an ioredis Cluster's ClusterOptions, with its
   * seed nodes in `startupNodes`). */
  options: { [key: string]: any };
  startupNodes?: any[];
  isCluster?: boolean;
  connect?(...args: any[]): any;
  sendCommand?(...args: any[]): any;
  [key: string]: any;
}

/** What BullMQ accepts as `connection`: ioredis options, a URL string, or an ioredis instance.
 * Without one, 127.0.0.1:6379. */
export type ConnectionOptions = RedisOptions | RedisClientLike | string;

// ---------------------------------------------------------------------------------------------
// Job options

/** How many finished jobs to keep: `true` removes at once, `false` keeps all, a number keeps
 * that many, or `{ age (seconds), count, limit }`; `limit` is the most jobs `age` removes at
 * one settle (default 1000), the oldest first. */
export type KeepJobs = boolean | number | { age?: number; count?: number; limit?: number };

/** BullMQ's deduplication: while the job owning `id` is alive (or for `ttl` ms), adds with the
 * same id return that job and add nothing. */
export interface DeduplicationOptions {
  id: string;
  /** ms the id stays claimed; without it, until the owning job finishes. */
  ttl?: number;
  /** A dropped add restarts the ttl. */
  extend?: boolean;
  /** A new add replaces the owning job while that job is still delayed. */
  replace?: boolean;
}

/** BullMQ's repeat options (also the design's `repeat` job option, whose `cron` is BullMQ's
 * `pattern`). */
export interface RepeatOptions {
  /** Cron pattern (5 fields, or 6 with seconds). */
  pattern?: string;
  /** The design's name for `pattern`. */
  cron?: string;
  /** Interval in ms. */
  every?: number;
  /** IANA time zone of the pattern. */
  tz?: string;
  startDate?: Date | string | number;
  endDate?: Date | string | number;
  /** Stop after this many runs. */
  limit?: number;
  /** Run the first time now instead of at the first fire time. */
  immediately?: boolean;
  count?: number;
  offset?: number;
  prevMillis?: number;
  key?: string;
  jobId?: string;
}

/** BullMQ 6's job options (`queue.add(name, data, opts)`). */
export interface JobsOptions {
  /** Custom id; adding an existing id returns the existing job and adds nothing. */
  jobId?: string;
  /** 0 (none) to 2,097,151; lower numbers run first. */
  priority?: number;
  /** ms before the job becomes runnable. */
  delay?: number;
  /** Total attempts. */
  attempts?: number;
  /** A fixed delay in ms, or a backoff policy. */
  backoff?: number | BackoffOptions;
  lifo?: boolean;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  /** Log lines kept per job. */
  keepLogs?: number;
  stackTraceLimit?: number;
  sizeLimit?: number;
  timestamp?: number;
  repeatJobKey?: string;
  deduplication?: DeduplicationOptions;
  /** Makes a recurring job: add (and the coordinator's enqueueJob) creates or updates job
   * scheduler `repeat.key` (else `jobId`, else the job name) and resolves to the job of its
   * first run. `count`, `offset` and `prevMillis` are the scheduler's own bookkeeping on the
   * jobs it makes and are refused here. */
  repeat?: RepeatOptions;
  prevMillis?: number;
}

/** Options of one job of `addBulk`. */
export type BulkJobOptions = Omit<JobsOptions, 'repeat'>;

/** The options of the jobs a job scheduler makes. */
export type JobSchedulerTemplateOptions = Omit<JobsOptions, 'jobId' | 'repeat' | 'delay' | 'deduplication'>;

// ---------------------------------------------------------------------------------------------
// Jobs

/** A job's progress: what the processor last passed to `updateProgress`. */
export type JobProgress = string | boolean | number | object;

/** Where a job is (BullMQ's `JobState`; the design's `JobState` is a record, see design.d.ts). */
export type JobStateName = 'completed' | 'failed' | 'active' | 'delayed' | 'prioritized' | 'waiting' | 'waiting-children';
export type FinishedStatus = 'completed' | 'failed';
/** A state name as the job listing methods take it (`wait` is `waiting`, `paused` the waiting
 * list of a paused queue). */
export type JobType = JobStateName | 'paused' | 'repeat' | 'wait';

/** BullMQ's string-encoded form of a job (`job.asJSON()`, `Job.fromJSON`). */
export interface JobJson {
  id: string;
  name: string;
  /** JSON text. */
  data: string;
  opts: JobsOptions;
  progress: JobProgress;
  attemptsMade: number;
  attemptsStarted: number;
  finishedOn?: number;
  processedOn?: number;
  timestamp: number;
  delay?: number;
  priority?: number;
  failedReason: string;
  /** JSON text of an array of stack traces. */
  stacktrace?: string;
  /** JSON text. */
  returnvalue: string;
  parentKey?: string;
  repeatJobKey?: string;
  deduplicationId?: string;
  processedBy?: string;
  stalledCounter: number;
}

/**
 * What `moveToCompleted` / `moveToFailed` answer (BullMQ's): with the next job taken in the
 * same call, `[jobJson, jobId, 0, 0]` (`Job.fromJSON(worker, jobJson, jobId)` makes it a
 * Job, locked with the same token); without one, `[null, 0, rateLimitMs, 0]` when the rate
 * limit stopped the fetch, `[null, 0, 0, nextDelayedTimestamp]` when a delayed job is
 * pending, else `[]`.
 */
export type NextJobData = [JobJson, string, 0, 0] | [null, 0, number, number] | [];

/** Options of `worker.getNextJob`. */
export interface GetNextJobOptions {
  /** Wait for a job when the last call found none, at most the worker's drainDelay (default true). */
  block?: boolean;
}

/** A job: BullMQ 6's `Job`, read from and written to the same Redis hash BullMQ uses. */
export declare class Job<DataType = any, ResultType = any, NameType extends string = string> {
  constructor(queue: Queue, name: NameType, data: DataType, opts?: JobsOptions, id?: string);
  /** The job, or undefined when there is none with that id. A Worker stands for its queue
   * (its jobs are then settled with its options). */
  static fromId<T = any, R = any, N extends string = string>(queue: Queue | Worker, jobId: string): Promise<Job<T, R, N> | undefined>;
  static fromJSON<T = any, R = any, N extends string = string>(queue: Queue | Worker, json: JobJson, jobId?: string): Job<T, R, N>;
  /** Adds a job to `queue` and resolves to it (no `waiting` event on the Queue). */
  static create<T = any, R = any, N extends string = string>(queue: Queue<T, R, N>, name: N, data: T, opts?: JobsOptions): Promise<Job<T, R, N>>;
  /** Adds the jobs to `queue` atomically. */
  static createBulk<T = any, R = any, N extends string = string>(queue: Queue<T, R, N>, jobs: { name: N; data: T; opts?: JobsOptions }[]): Promise<Job<T, R, N>[]>;
  /** Job options from their stored JSON text, short keys under their public names
   * (`optsDecode` maps them; BullMQ's map by default). */
  static optsFromJSON(rawOpts?: string, optsDecode?: Record<string, string>): JobsOptions;
  /** Appends a row to the log of job `jobId` of `queue`; resolves to the row count. */
  static addJobLog(queue: Queue, jobId: string, logRow: string, keepLogs?: number): Promise<number>;

  /** Always set on jobs this package hands out (it assigns ids when adding). */
  id: string;
  name: NameType;
  data: DataType;
  opts: JobsOptions;
  progress: JobProgress;
  returnvalue: ResultType;
  failedReason: string;
  stacktrace: string[];
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
  /** When it was added, ms since the epoch. */
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
  delay: number;
  priority: number;
  readonly queueName: string;
  /** `<prefix>:<queue>`. */
  readonly queueQualifiedName: string;
  /** The job scheduler (recurring job) this job is a run of. */
  repeatJobKey?: string;
  deduplicationId?: string;
  /** The lock token while a worker holds the job. */
  token?: string;
  /** The name of the worker that processed it. */
  processedBy?: string;
  parentKey?: string;
  /** The trace id it was scheduled with (scheduleJob). */
  readonly traceId?: string;
  /** Class name of the error that failed it for good. */
  errorName?: string;
  /** When it was archived (archiveFailedJob), ms since the epoch. */
  archivedOn?: number;

  updateProgress(progress: JobProgress): Promise<void>;
  updateData(data: DataType): Promise<void>;
  /** Appends a line to the job's log; resolves to the number of lines. */
  log(logRow: string): Promise<number>;
  /** Clears the job's log, keeping its newest `keepLogs` lines when given (0 or none: all go). */
  clearLogs(keepLogs?: number): Promise<void>;
  /** Ends the job's deduplication window now if the job still owns it; resolves to whether
   * one ended (false for a job without a deduplication id). */
  removeDeduplicationKey(): Promise<boolean>;
  getState(): Promise<JobStateName | 'unknown'>;
  isCompleted(): Promise<boolean>;
  isFailed(): Promise<boolean>;
  isActive(): Promise<boolean>;
  isWaiting(): Promise<boolean>;
  isDelayed(): Promise<boolean>;
  isWaitingChildren(): Promise<boolean>;
  /** Deletes the job; refused while a worker holds it. */
  remove(opts?: { removeChildren?: boolean }): Promise<void>;
  /** Moves a failed (or completed) job back to waiting. */
  retry(state?: FinishedStatus, opts?: { resetAttemptsMade?: boolean; resetAttemptsStarted?: boolean }): Promise<void>;
  /** Makes a delayed job runnable now. */
  promote(): Promise<void>;
  /** Makes a delayed job due `delay` ms from now. */
  changeDelay(delay: number): Promise<void>;
  /** BullMQ's `{ priority, lifo }`, or the new priority as a number (as the design calls it). */
  changePriority(opts: { priority?: number; lifo?: boolean } | number): Promise<void>;
  /** Extends the lock held with `token` by `duration` ms; resolves to 1, or 0 when not held. */
  extendLock(token: string | JobProcessingContext, duration: number): Promise<number>;
  /** Moves an active job to delayed until `timestamp` (ms since the epoch). */
  moveToDelayed(timestamp: number, token?: string | JobProcessingContext): Promise<void>;
  /**
   * Manual processing: completes the job held with `token` as a worker would (keep
   * policies, events, metrics); with `fetchNext` (default true) takes the next job in the
   * same call. LockError when `token` does not hold the job ('0' is BullMQ's token that skips
   * the check), JobStateError when it is not active: nothing is written then.
   */
  moveToCompleted(returnValue: ResultType, token: string | JobProcessingContext, fetchNext?: boolean): Promise<NextJobData>;
  /**
   * Manual processing: fails the current attempt of the job held with `token` as a worker
   * would (attempts, backoff, UnrecoverableError, `discard()`, keep policies). Undefined after
   * a retry at once; with `fetchNext` (default false) the next job as moveToCompleted, but
   * after a delayed retry only a job; else `[]`. Refused as moveToCompleted.
   */
  moveToFailed(err: Error, token: string | JobProcessingContext, fetchNext?: boolean): Promise<NextJobData | undefined>;
  /** Moves the active job back to waiting (prioritized by its priority, else first in line)
   * without counting an attempt; with `token`, only if it holds the lock. Resolves to the ms
   * left of the queue's rate limit (0 for none). */
  moveToWait(token?: string | JobProcessingContext): Promise<number>;
  /** The current attempt is not retried when it fails. */
  discard(): void;
  /** Resolves with the return value when the job completes; rejects with its failed reason. */
  waitUntilFinished(queueEvents: QueueEvents, ttl?: number): Promise<ResultType>;
  toJSON(): Record<string, unknown>;
  asJSON(): JobJson;
  /** `asJSON()` with `queueName`, `queueQualifiedName` and `prefix` (BullMQ's form for its
   * sandboxed processors). */
  asJSONSandbox(): JobJson & { queueName: string; queueQualifiedName: string; prefix: string };
}

// ---------------------------------------------------------------------------------------------
// Queue

/** BullMQ's QueueOptions, plus the design's queue `settings` (its queue-type presets). */
export interface QueueOptions {
  connection?: ConnectionOptions;
  /** Key prefix; default 'bull'. */
  prefix?: string;
  defaultJobOptions?: JobsOptions;
  streams?: { events: { maxLen: number } };
  skipVersionCheck?: boolean;
  /** Do not write the events cap and library label into the queue's meta on start. */
  skipMetasUpdate?: boolean;
  /** The design's worker timings for the queue (its queue-type presets carry them); BullMQ's
   * own `settings` are repeat options, which this package does not take here. */
  settings?: {
    stalledInterval?: number;
    retryProcessDelay?: number;
    maxStalledCount?: number;
  };
}

/** The events a Queue emits. */
export interface QueueListener<JobBase extends Job = Job> {
  cleaned: (jobs: string[], type: string) => void;
  error: (err: Error) => void;
  paused: () => void;
  progress: (jobId: string, progress: JobProgress) => void;
  removed: (jobId: string) => void;
  resumed: () => void;
  waiting: (job: JobBase) => void;
}

/** Counts of every state (what `getJobCounts()` without arguments resolves to). BullMQ's keys
 * (`'waiting-children'`), so not the engine's JobCountsResult (binding.d.ts), which names it
 * `waitingChildren`. */
export interface JobCounts {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  prioritized: number;
  paused?: number;
  'waiting-children'?: number;
}

/** A job scheduler as BullMQ lists it: built from the engine's SchedulerRecord (binding.d.ts)
 * in BullMQ's shape (the template's data and options parsed under `template`, absent fields
 * left out). */
export interface JobSchedulerJson<D = any> {
  key: string;
  name: string;
  id?: string | null;
  iterationCount?: number;
  limit?: number;
  startDate?: number;
  endDate?: number;
  tz?: string;
  pattern?: string;
  every?: number;
  /** When the next run is due, ms since the epoch. */
  next?: number;
  offset?: number;
  template?: { data?: D; opts?: JobSchedulerTemplateOptions };
}

/** BullMQ's per-minute metrics (`queue.getMetrics`): `{ meta: { count, prevTS, prevCount },
 * data, count }`, the engine's MetricsSeriesResult as it crosses. */
export interface Metrics extends MetricsSeriesResult {}

/** BullMQ 6's Queue on this package's engine. */
export declare class Queue<DataType = any, ResultType = any, NameType extends string = string> extends EventEmitter {
  constructor(name: string, opts?: QueueOptions);
  readonly name: string;
  /** `<prefix>:<name>`. */
  readonly qualifiedName: string;
  readonly opts: QueueOptions;
  readonly defaultJobOptions: JobsOptions;

  on<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(event: U, listener: QueueListener<Job<DataType, ResultType, NameType>>[U]): this;
  /** Any other event name (EventEmitter's form). */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(event: U, listener: QueueListener<Job<DataType, ResultType, NameType>>[U]): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(event: U, listener: QueueListener<Job<DataType, ResultType, NameType>>[U]): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;

  /** Resolves once connected. */
  waitUntilReady(): Promise<void>;
  close(): Promise<void>;

  add(name: NameType, data: DataType, opts?: JobsOptions): Promise<Job<DataType, ResultType, NameType>>;
  addBulk(jobs: { name: NameType; data: DataType; opts?: BulkJobOptions }[]): Promise<Job<DataType, ResultType, NameType>[]>;
  getJob(jobId: string): Promise<Job<DataType, ResultType, NameType> | undefined>;
  /** The job's state, as BullMQ's getJobState. */
  getJobState(jobId: string): Promise<JobStateName | 'unknown'>;
  /** Log rows `start..end` of the job (oldest first unless `asc` is false) and their count. */
  getJobLogs(jobId: string, start?: number, end?: number, asc?: boolean): Promise<{ logs: string[]; count: number }>;
  /** Appends a row to the job's log (keeping the newest `keepLogs`); resolves to the row count. */
  addJobLog(jobId: string, logRow: string, keepLogs?: number): Promise<number>;
  /** Stores the job's progress, writes `progress` in the events stream and emits `progress`
   * (jobId, progress) on this queue. */
  updateJobProgress(jobId: string, progress: JobProgress): Promise<void>;
  getJobs(types?: JobType[] | JobType, start?: number, end?: number, asc?: boolean): Promise<Job<DataType, ResultType, NameType>[]>;
  getJobCounts(): Promise<JobCounts>;
  getJobCounts(...types: JobType[]): Promise<{ [index: string]: number }>;
  getJobCountByTypes(...types: JobType[]): Promise<number>;
  /** getJobCounts(...types) (BullMQ also records them on its telemetry meter). */
  recordJobCountsMetric(...types: JobType[]): Promise<{ [index: string]: number }>;
  /** Ids of the jobs in `types`, ranks `start..end` (default 0..1) of each, newest first
   * unless `asc`, each id once. */
  getRanges(types?: JobType[] | JobType, start?: number, end?: number, asc?: boolean): Promise<string[]>;
  /** Jobs waiting to run: waiting, paused, delayed and prioritized. */
  count(): Promise<number>;
  getWaiting(start?: number, end?: number): Promise<Job<DataType, ResultType, NameType>[]>;
  getActive(start?: number, end?: number): Promise<Job<DataType, ResultType, NameType>[]>;
  getCompleted(start?: number, end?: number): Promise<Job<DataType, ResultType, NameType>[]>;
  getFailed(start?: number, end?: number): Promise<Job<DataType, ResultType, NameType>[]>;
  getDelayed(start?: number, end?: number): Promise<Job<DataType, ResultType, NameType>[]>;
  getPrioritized(start?: number, end?: number): Promise<Job<DataType, ResultType, NameType>[]>;
  getWaitingCount(): Promise<number>;
  getActiveCount(): Promise<number>;
  getCompletedCount(): Promise<number>;
  getFailedCount(): Promise<number>;
  getDelayedCount(): Promise<number>;
  getPrioritizedCount(): Promise<number>;

  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  /** Removes waiting (and with `delayed`, delayed) jobs. */
  drain(delayed?: boolean): Promise<void>;
  /** Removes up to `limit` jobs of `type` finished (or added) more than `grace` ms ago;
   * resolves to their ids and emits `cleaned`. */
  clean(grace: number, limit: number, type?: 'completed' | 'wait' | 'waiting' | 'active' | 'paused' | 'prioritized' | 'delayed' | 'failed'): Promise<string[]>;
  /** Deletes the queue and all its keys; refused while jobs are active unless `force`. */
  obliterate(opts?: { force?: boolean; count?: number }): Promise<void>;
  /** Deletes a job that is not running; resolves to 1 when it is gone (also when there was
   * none), 0 when a worker holds it. A job scheduler's pending run is refused
   * (JobStateError). */
  remove(jobId: string, opts?: { removeChildren?: boolean }): Promise<number>;
  /** The queue's settings kept in Redis. */
  getMeta(): Promise<{ paused: boolean; concurrency?: number; max?: number; duration?: number; maxLenEvents?: number; version?: string; [field: string]: unknown }>;
  /** The library label in the queue's meta, or null. */
  getVersion(): Promise<string | null>;
  getGlobalConcurrency(): Promise<number | null>;
  getGlobalRateLimit(): Promise<{ max: number; duration: number } | null>;
  /** At most `concurrency` jobs of the queue run at once across all workers. */
  setGlobalConcurrency(concurrency: number): Promise<void>;
  removeGlobalConcurrency(): Promise<void>;
  /** At most `max` jobs of the queue start per `duration` ms across all workers. */
  setGlobalRateLimit(max: number, duration: number): Promise<void>;
  removeGlobalRateLimit(): Promise<void>;
  /** Rate-limited workers of the queue fetch nothing for `expireTimeMs`. */
  rateLimit(expireTimeMs: number): Promise<void>;
  /** Ms rate-limited workers (allowed `maxJobs` per window; default the global max) still wait. */
  getRateLimitTtl(maxJobs?: number): Promise<number>;
  /** Ends a rate-limit pause or a used-up window now. */
  removeRateLimitKey(): Promise<void>;
  /** Whether the queue runs as many jobs as its global concurrency allows (false without one). */
  isMaxed(): Promise<boolean>;
  /** The id of the job whose deduplication window `id` is open, or null. */
  getDeduplicationJobId(id: string): Promise<string | null>;
  /** @deprecated BullMQ's old name of getDeduplicationJobId. */
  getDebounceJobId(id: string): Promise<string | null>;
  /** Ends deduplication window `id` now; resolves to 1, or 0 when there was none. */
  removeDeduplicationKey(id: string): Promise<number>;
  /** @deprecated BullMQ's old name of removeDeduplicationKey. */
  removeDebounceKey(id: string): Promise<number>;
  /** Deletes the `priority` key of BullMQ versions before the `prioritized` set; 1, or 0
   * when there was none. */
  removeDeprecatedPriorityKey(): Promise<number>;
  /** Lets go of the connection at once (close() waits for adds in flight); later calls
   * reject. */
  disconnect(): Promise<void>;
  /** The queue's job schedulers as BullMQ's JobScheduler reads them; its `error` events are
   * the queue's. */
  readonly jobScheduler: Promise<QueueJobScheduler>;
  /** The meta fields this queue writes when it starts. */
  readonly metaValues: Record<string, string | number>;
  retryJobs(opts?: { count?: number; state?: FinishedStatus; timestamp?: number }): Promise<void>;
  promoteJobs(opts?: { count?: number }): Promise<void>;

  upsertJobScheduler(
    jobSchedulerId: string,
    repeatOpts: Omit<RepeatOptions, 'key'>,
    jobTemplate?: { name?: NameType; data?: DataType; opts?: JobSchedulerTemplateOptions },
  ): Promise<Job<DataType, ResultType, NameType>>;
  getJobSchedulers(start?: number, end?: number, asc?: boolean): Promise<JobSchedulerJson<DataType>[]>;
  removeJobScheduler(jobSchedulerId: string): Promise<boolean>;
  getJobScheduler(id: string): Promise<JobSchedulerJson<DataType> | undefined>;
  getJobSchedulersCount(): Promise<number>;

  /** Connected workers of this queue (from any process), as Redis' CLIENT LIST shows them. */
  getWorkers(): Promise<{ [index: string]: string }[]>;
  /** Connections following this queue's events stream (QueueEvents of any process, ours and
   * BullMQ's), as Redis' CLIENT LIST shows them. */
  getQueueEvents(): Promise<{ [index: string]: string }[]>;
  /** Jobs waiting to run per priority (0: the wait list, a paused queue's jobs included),
   * keyed by the priority as text. */
  getCountsPerPriority(priorities: number[]): Promise<{ [index: string]: number }>;
  /** Deletes job keys no state references (left behind by older BullMQ versions), scanning
   * about `count` keys per SCAN call, at most `limit` jobs (0: no limit); resolves to how
   * many went. */
  removeOrphanedJobs(count?: number, limit?: number): Promise<number>;
  getMetrics(type: 'completed' | 'failed', start?: number, end?: number): Promise<Metrics>;
  /** Job counts by state and the finished totals in Prometheus' text format, as BullMQ writes
   * them (`bullmq_job_count`, `bullmq_job_completed_total`, `bullmq_job_failed_total`), with
   * `globalVariables` as extra labels. */
  exportPrometheusMetrics(globalVariables?: Record<string, string>): Promise<string>;
  /** Trims the events stream to about `maxLength` entries; resolves to the number removed. */
  trimEvents(maxLength: number): Promise<number>;
}

/** BullMQ's JobScheduler as `queue.jobScheduler` gives it (create or update schedulers with
 * `queue.upsertJobScheduler`). Not a class of this package's exports: the design's
 * `JobScheduler` is its job scheduling manager. */
export interface QueueJobScheduler extends EventEmitter {
  readonly name: string;
  waitUntilReady(): Promise<void>;
  /** Whether `id` names a job scheduler of the queue (ours or BullMQ's). */
  isJobScheduler(id: string): Promise<boolean>;
  getScheduler<D = any>(id: string): Promise<JobSchedulerJson<D> | undefined>;
  getJobSchedulers<D = any>(start?: number, end?: number, asc?: boolean): Promise<JobSchedulerJson<D>[]>;
  getSchedulersCount(): Promise<number>;
  /** 1 when the scheduler was removed, 0 when there was none. */
  removeJobScheduler(jobSchedulerId: string): Promise<number>;
  close(): Promise<void>;
  disconnect(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Worker

/** BullMQ's rate limiter: at most `max` jobs per `duration` ms. */
export interface RateLimiterOptions {
  max: number;
  duration: number;
}

/**
 * Worker options: the design's (concurrency, connection, rateLimiter, stalledInterval,
 * maxStalledCount), BullMQ 6's, and this package's.
 */
export interface WorkerOptions {
  concurrency?: number;
  connection?: ConnectionOptions;
  /** The design's name for `limiter`. */
  rateLimiter?: RateLimiterOptions;
  limiter?: RateLimiterOptions;
  stalledInterval?: number;
  maxStalledCount?: number;
  /** Key prefix of `new Worker(...)`; default 'bull'. */
  prefix?: string;
  /** `new Worker(...)` starts at once unless false (then call `run()`). */
  autorun?: boolean;
  /** ms a job's lock lives without renewal (renewed every half of it). */
  lockDuration?: number;
  /** Shown by getWorkers and stored as the job's processedBy. */
  name?: string;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  drainDelay?: number;
  /** A job fetched after more starts than this fails without running, with
   * UnrecoverableError "job started more than allowable limit" (0 or none: no limit). */
  maxStartedAttempts?: number;
  /**
   * Jobs fetched ahead of free processing slots and held locked, so the next job starts
   * without a Redis round trip (`active` then counts up to concurrency + prefetch).
   */
  prefetch?: number | 'auto';
  /** Attempt timeout for jobs that set no timeoutMs; the processor's context.signal aborts. */
  timeoutMs?: number;
  /** For stored backoffs that set none (BullMQ-added jobs): cap in ms (default 300000) and
   * jitter in [0, 1] (default 0, as BullMQ). */
  retry?: { maxDelay?: number; jitter?: number };
  /** Error classes (or names) that fail a job at once, besides UnrecoverableError. */
  nonRetryableErrors?: Array<string | (abstract new (...args: any[]) => Error)>;
  /** The coordinator's registerWorker: the client the worker runs as; it needs `process`
   * permission on the queue to start and before every attempt. */
  clientId?: string;
  settings?: {
    stalledInterval?: number;
    retryProcessDelay?: number;
    maxStalledCount?: number;
    /** Custom backoff: ms before the next attempt. */
    backoffStrategy?: (attemptsMade: number, type?: string, err?: Error, job?: Job) => number | Promise<number>;
  };
}

/** The events a Worker emits, with BullMQ's arguments. */
export interface WorkerListener<DataType = any, ResultType = any, NameType extends string = string> {
  active: (job: Job<DataType, ResultType, NameType>, prev: string) => void;
  closed: () => void;
  closing: (msg: string) => void;
  completed: (job: Job<DataType, ResultType, NameType>, result: ResultType, prev: string) => void;
  drained: () => void;
  error: (failedReason: Error) => void;
  failed: (job: Job<DataType, ResultType, NameType> | undefined, error: Error, prev: string) => void;
  paused: () => void;
  progress: (job: Job<DataType, ResultType, NameType>, progress: JobProgress) => void;
  ready: () => void;
  resumed: () => void;
  stalled: (jobId: string, prev: string) => void;
}

/** A worker's counters (`worker.stats()`), as the engine keeps them: `completed`, `failed`,
 * `lastActivityMs`, `uptimeMs`, `errored`, `paused`. */
export interface WorkerStats extends WorkerStatsJs {}

/** BullMQ 6's Worker on this package's engine. The processor receives the job and the design's
 * processing context. */
export declare class Worker<DataType = any, ResultType = any, NameType extends string = string> extends EventEmitter {
  constructor(name: string, processor?: WorkerProcessor<DataType, ResultType, NameType> | null, opts?: WorkerOptions);
  /** The error a processor throws (after `worker.rateLimit(ms)`) to put its job back without
   * counting an attempt. */
  static RateLimitError(): Error;
  /** The worker's id, fixed from construction (its registry entry and lock tokens). */
  readonly id: string;
  /** The queue's name. */
  readonly name: string;
  /** The queue's name (the design reads it from registered workers). */
  readonly queueName: string;
  readonly opts: WorkerOptions;
  /** Jobs processed at once; setting it acts at once. */
  concurrency: number;
  registeredAt: Date;
  /** active, paused (here or by another process), error (its last Redis call failed) or closed. */
  readonly state: 'active' | 'paused' | 'error' | 'closed';
  stats(): WorkerStats;

  /** Starts processing (when made with autorun: false, or after a pause ended it);
   * resolves when the worker closes or a pause() that waited for active jobs ends it. A
   * paused worker's run() resolves at once. */
  run(): Promise<void>;
  /** Stops taking jobs; waits for active jobs (and then run() ends) unless doNotWaitActive
   * (run() keeps going, fetching nothing, until resume()). */
  pause(doNotWaitActive?: boolean): Promise<void>;
  /** Fetches again; runs run() again when a pause ended it. */
  resume(): Promise<void>;
  isPaused(): boolean;
  /** Whether run() is running (BullMQ's: false after a pause that waited for active jobs). */
  isRunning(): boolean;
  /** Aborts the signal of job `jobId` running here with `reason`; true when it runs here with
   * a signal (the processor takes a third argument, or the job has a timeout). */
  cancelJob(jobId: string, reason?: string): boolean;
  /** Aborts the signals of every job running here. */
  cancelAllJobs(reason?: string): void;
  /** Renews the locks of `jobIds` held by the `tokens` of the same rank for `duration` ms;
   * resolves to the ids not renewed. */
  extendJobLocks(jobIds: string[], tokens: string[], duration: number): Promise<string[]>;
  /** Resolves after `milliseconds` (default 100) or when `abortController` aborts. */
  delay(milliseconds?: number, abortController?: AbortController): Promise<void>;
  /** Closes at once, as close(true). */
  disconnect(): Promise<void>;
  /** The JobScheduler of the worker's queue; its `error` events are the worker's. */
  readonly jobScheduler: Promise<QueueJobScheduler>;
  /**
   * Stops taking jobs and waits for active ones. `force` (as BullMQ): does not wait; active
   * jobs stay active with their locks no longer renewed, the stalled check (of any worker on
   * the queue) moves them back to wait once the locks lapse, and their late outcomes are
   * ignored. A number of ms (ours): waits at most that long, then gives the unfinished jobs
   * back to the front of the queue without using an attempt.
   */
  close(force?: boolean | number): Promise<void>;
  /** Resolves once connected, the worker's named connection included (getWorkers lists it
   * from then on, before `run()` too). */
  waitUntilReady(): Promise<void>;
  /** Sets the queue's limiter key for `expireTimeMs`: rate-limited workers of the queue
   * (any process) take no job meanwhile, and a processor that then throws
   * `Worker.RateLimitError()` gives its job back and waits for it. */
  rateLimit(expireTimeMs: number): Promise<void>;
  /**
   * Manual processing (a worker made without a processor): moves the next job to active,
   * locked with `token` for lockDuration (not renewed: `job.extendLock`), and resolves to it;
   * undefined when there is none, while paused or closing, or while a rate limit lasts. With
   * `block` (default true) it first waits for a job when the last call found none, at most
   * drainDelay. Emits `active`, and `drained` when the queue ran dry.
   */
  getNextJob(token: string, opts?: GetNextJobOptions): Promise<Job<DataType, ResultType, NameType> | undefined>;
  /** Manual processing: runs the stalled check now and every stalledInterval until close (a
   * worker with a processor runs it by itself). */
  startStalledCheckTimer(): Promise<void>;

  on<U extends keyof WorkerListener<DataType, ResultType, NameType>>(event: U, listener: WorkerListener<DataType, ResultType, NameType>[U]): this;
  once<U extends keyof WorkerListener<DataType, ResultType, NameType>>(event: U, listener: WorkerListener<DataType, ResultType, NameType>[U]): this;
  off<U extends keyof WorkerListener<DataType, ResultType, NameType>>(event: U, listener: WorkerListener<DataType, ResultType, NameType>[U]): this;
  emit<U extends keyof WorkerListener<DataType, ResultType, NameType>>(event: U, ...args: Parameters<WorkerListener<DataType, ResultType, NameType>[U]>): boolean;
}

// ---------------------------------------------------------------------------------------------
// QueueEvents

export interface QueueEventsOptions {
  connection?: ConnectionOptions;
  prefix?: string;
  /** Starts reading at once unless false (then call `run()`). */
  autorun?: boolean;
  /** Stream id to read after; default '$' (new events only). */
  lastEventId?: string;
  blockingTimeout?: number;
}

/** A queue's events (read from its Redis events stream, so every process's, BullMQ's too),
 * with BullMQ's argument objects; the second argument is the event's stream id. */
export interface QueueEventsListener<ResultType = any> {
  active: (args: { jobId: string; prev?: string }, id: string) => void;
  added: (args: { jobId: string; name: string }, id: string) => void;
  cleaned: (args: { count: string }, id: string) => void;
  completed: (args: { jobId: string; returnvalue: ResultType; prev?: string }, id: string) => void;
  deduplicated: (args: { jobId: string; deduplicationId: string; deduplicatedJobId: string }, id: string) => void;
  delayed: (args: { jobId: string; delay: number }, id: string) => void;
  drained: (id: string) => void;
  duplicated: (args: { jobId: string }, id: string) => void;
  error: (args: Error) => void;
  failed: (args: { jobId: string; failedReason: string; prev?: string }, id: string) => void;
  paused: (args: object, id: string) => void;
  progress: (args: { jobId: string; data: JobProgress }, id: string) => void;
  removed: (args: { jobId: string; prev: string }, id: string) => void;
  resumed: (args: object, id: string) => void;
  'retries-exhausted': (args: { jobId: string; attemptsMade: string }, id: string) => void;
  stalled: (args: { jobId: string }, id: string) => void;
  waiting: (args: { jobId: string; prev?: string }, id: string) => void;
  'waiting-children': (args: { jobId: string }, id: string) => void;
}

/** BullMQ 6's QueueEvents on this package's engine. */
export declare class QueueEvents<ResultType = any> extends EventEmitter {
  constructor(name: string, opts?: QueueEventsOptions);
  /** The queue's name. */
  readonly name: string;
  readonly queueName: string;
  run(): Promise<void>;
  waitUntilReady(): Promise<void>;
  close(): Promise<void>;
  /** Stops at once, as close(). */
  disconnect(): Promise<void>;
  on<U extends keyof QueueEventsListener<ResultType>>(event: U, listener: QueueEventsListener<ResultType>[U]): this;
  once<U extends keyof QueueEventsListener<ResultType>>(event: U, listener: QueueEventsListener<ResultType>[U]): this;
  off<U extends keyof QueueEventsListener<ResultType>>(event: U, listener: QueueEventsListener<ResultType>[U]): this;
}

// ---------------------------------------------------------------------------------------------
// BullMQ's processor errors

/** Throw from a processor to fail the job at once, without retries. */
export declare class UnrecoverableError extends Error {
  constructor(message?: string);
  readonly code: 'ERR_UNRECOVERABLE';
}
/** Throw after `job.moveToDelayed(timestamp, token)`: the job stays delayed; the worker
 * neither completes nor fails it and counts no attempt. */
export declare class DelayedError extends Error {
  constructor(message?: string);
  readonly code: 'ERR_MOVED_TO_DELAYED';
}
/** Throw after moving the job back to wait yourself: the worker leaves it there. */
export declare class WaitingError extends Error {
  constructor(message?: string);
  readonly code: 'ERR_MOVED_TO_WAIT';
}
/** Throw after moving the job to waiting-children: the worker leaves it there. */
export declare class WaitingChildrenError extends Error {
  constructor(message?: string);
  readonly code: 'ERR_MOVED_TO_WAITING_CHILDREN';
}
/** Throw after `worker.rateLimit(ms)`: the job goes back to waiting without an attempt. Also
 * what an enqueue over its client's rate limit rejects with (nothing written). */
export declare class RateLimitError extends Error {
  constructor(message?: string, details?: { retryAfterMs?: number | null; clientId?: string; limit?: number });
  readonly code: 'ERR_RATE_LIMIT';
  /** ms until the client's window ends (an enqueue over its limit); null when the add alone
   * is larger than the limit. */
  readonly retryAfterMs?: number | null;
  readonly clientId?: string;
  readonly limit?: number;
}

export type { JobProcessingContext };
