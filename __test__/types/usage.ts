// Compiled with `tsc --noEmit` (npm run typecheck): the public types accept this package's own
// usage and reject what they should. (The design's own code is in design-*.ts / *.mts.)
import {
  jobCoordinator,
  JobQueueCoordinator,
  UnrecoverableError,
  ValidationError,
  type QueueStatus,
  type Job,
  TimeoutError,
  QUEUE_TYPES,
  QueueEvents,
  createLogger,
  type QueueMetricsReport,
  type QueueHealthStatus,
  type WorkerPool,
  type ScalingResult,
  type WorkerStatus,
  type RepeatableJob,
  type RetryStatistics,
  type FailedJobStatistics,
  type ScheduledJob,
  Queue,
  Worker,
  Job as JobClass,
  QueueEvents as BullQueueEvents,
  JobStatus,
  DelayedError,
  RateLimitError,
  WaitingChildrenError,
  type AutoScalingPolicy,
  type RecurringJobOptions,
  type JobStateName,
  type FailedJob,
  type ManagedWorker,
  type NextJobData,
} from '@shared-infra/job-queue';
import type { NativeEngine, NativeWorker } from '../../binding';

async function usage(): Promise<void> {
  const photo: Job<{ type: string; photoId: number }> = await jobCoordinator.enqueueJob(
    'photo-processing',
    { type: 'process-photo', photoId: 1 },
  );
  photo.opts.attempts;
  await jobCoordinator.enqueueJob('q', 'name', { a: 1 }, { delayMs: 5, maxRetries: 3, backoffStrategy: { type: 'fixed', delay: 1 } });
  const worker = await jobCoordinator.registerWorker('q', async (job, ctx) => {
    await job.updateProgress({ pct: 50 });
    await job.log(`attempt ${ctx.attemptNumber}`);
    if (!job.data) throw new UnrecoverableError('no data');
    return { ok: true };
  }, { concurrency: 5, lockDuration: 30000 });
  worker.on('failed', (job, err: Error, prev: string) => job?.attemptsMade);
  worker.on('completed', (job, result) => job.returnvalue === result);
  const status: QueueStatus = await jobCoordinator.getQueueStatus('q');
  status.jobCounts.prioritized;
  await jobCoordinator.retryJob('q', '1');
  await jobCoordinator.retryJob('1');
  const c = new JobQueueCoordinator({ redis: { url: 'redis://127.0.0.1:6379' } });
  await c.shutdown({ timeoutMs: 10 });
  try { await c.initialize(); } catch (e) { if (e instanceof ValidationError) e.field; }
  // @ts-expect-error the backoff type is checked
  await c.enqueueJob('q', {}, { backoff: { type: 'linear', delay: 1 } });
  // @ts-expect-error data must be an object
  await c.enqueueJob('q', 'name', 42);

  const scheduled = await c.scheduleJob('q', 'email', { to: 'a' }, { delayMs: 10, traceId: 't' });
  const trace: string | undefined = scheduled.traceId;
  const rep: RepeatableJob = await c.scheduleRecurringJob('q', 'report', {}, '0 9 * * 1-5', {
    timezone: 'Europe/Berlin',
    startDate: new Date(),
    maxRuns: 3,
    priority: 2,
  });
  const next: Date | null = rep.nextRun;
  await c.scheduleRecurringJob('q', 'tick', {}, { every: 1000 });
  // @ts-expect-error a recurring job's id comes from its schedule
  await c.scheduleRecurringJob('q', 'tick', {}, '* * * * *', { jobId: 'x' });
  const pending: ScheduledJob[] = await c.getScheduledJobs('q');
  pending[0]?.runAt.getTime();
  (await c.getRecurringJobs('q')).map((r) => r.cronExpression ?? r.every);
  await c.cancelScheduledJob('q', rep.id);
  await c.updateJobPriority('q', '1', 3);
  await c.promoteJob('q', '1');
  await c.changeDelay('q', '1', 500);
  await c.enqueueJob('q', 'n', {}, { deduplication: { id: 'd', ttl: 1000 } });
  void trace;
  void next;

  await c.registerWorker('q', async (job, ctx) => {
    ctx.signal?.throwIfAborted();
    return job.errorName;
  }, { timeoutMs: 1000, retry: { maxDelay: 60_000, jitter: 0 }, nonRetryableErrors: [TypeError, 'PaymentDeclined'] });
  c.registerNonRetryableError(RangeError);
  const stats: RetryStatistics = await c.getRetryStatistics('q');
  stats.retriesByAttempt['1'];
  const dead: FailedJobStatistics = await c.getFailedJobStatistics('q');
  dead.oldestFailure?.getTime();
  const purged: number = await c.purgeFailedJobs('q', new Date());
  await c.purgeFailedJobs('q', 3_600_000);
  await c.archiveFailedJob('q', '1');
  await c.requeueFailedJob('q', '1');
  c.on('failurePattern', (p) => p.jobName.length);
  try { await c.getJob('q', '1'); } catch (e) { if (e instanceof TimeoutError) e.code; }
  void purged;

  await c.createQueue('orders', { concurrency: 2, cleanup: { enabled: true, interval: 60_000 } });
  c.getAllQueues().get('orders')?.name;
  await c.pauseQueue('orders');
  await c.resumeQueue('orders');
  const pool: WorkerPool = await c.createWorkerPool('orders', { minWorkers: 1, maxWorkers: 4, processor: async () => 1 });
  const scaled: ScalingResult = await c.scaleWorkerPool('orders', pool.maxWorkers);
  await c.enableAutoScaling('orders', { targetProcessingTime: 30_000, scaleUpCooldown: 10_000 });
  const ws: WorkerStatus = await c.getWorkerStatus(pool.workerIds[0] ?? '');
  ws.status === 'stale';
  await c.pauseWorker(ws.id);
  const uninstall: () => void = c.installSignalHandlers({ timeoutMs: 10_000 });
  uninstall();
  await c.destroyQueue('orders', { force: true });
  QUEUE_TYPES['photo-processing']?.scaling.maxWorkers;
  void scaled;

  const m: QueueMetricsReport = await c.getQueueMetrics('orders');
  m.processingTime.p99 + m.waitTime.p50 + m.errorRate;
  // parts of the report are the binding's generated result types, as they cross
  m.jobCounts.waitingChildren + m.jobCounts.prioritized + m.processingTime.count;
  Object.values(m.byJobType).map((t) => t.deadLetter + t.retried);
  // @ts-expect-error the engine's counts name it waitingChildren
  m.jobCounts['waiting-children'];
  const text: string = await c.exportPrometheusMetrics();
  const health: QueueHealthStatus = await c.checkQueueHealth('orders', { maxWaiting: 10 });
  health.issues.map((i) => i.rule);
  (await c.getHealthRecommendations('orders')).map((r) => r.type);
  (await c.getHealth()).redis.latencyMs;
  (await c.collectMetrics()).system.memory.rss;
  const stream: QueueEvents = await c.events('orders');
  stream.on('completed', (e) => e.jobId);
  stream.close();
  c.on('active', (e) => e.name);
  createLogger({ level: 'debug' }).info('x', { queue: 'orders' });
  void text;
}

// The generated native types agree with how lib/ calls them.
declare const engine: NativeEngine;
declare const nativeWorker: NativeWorker;
async function native(): Promise<void> {
  const text: string = await engine.addJobs('q', '{"jobs":[]}', true);
  const w = await engine.createWorker('q', { concurrency: 1 }, (batch: string) => {}, (batch: string) => {});
  w.run();
  nativeWorker.complete([1], ['null']);
  nativeWorker.fail([1], ['TypeError'], ['m'], [null], [false]);
  await w.close(10);
  await nativeWorker.closeAbandoning();
  const upserted: string = (await engine.upsertScheduler('q', '{}')).jobId;
  const next: number = (await engine.upsertScheduler('q', '{}')).next;
  const waiting: number = (await engine.counts('q')).waiting;
  const statuses: string[] = (await engine.workers()).map((w) => w.status);
  void next;
  void waiting;
  void statuses;
  const removed: boolean = await engine.removeScheduler('q', 'id');
  await engine.changePriority('q', '1', 2);
  await engine.changeDelay('q', '1', 2);
  void upserted;
  void removed;
  void text;
}
// BullMQ's classes, typed by data, result and name.
interface Photo { photoId: string }
async function bullmq(): Promise<void> {
  const queue = new Queue<Photo, { ok: boolean }, 'resize' | 'crop'>('photos', { connection: 'redis://127.0.0.1:6379', prefix: 'bull' });
  await queue.waitUntilReady();
  const job = await queue.add('resize', { photoId: '1' }, { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 3600, count: 10 } });
  const photoId: string = job.data.photoId;
  // @ts-expect-error the name is one of NameType
  await queue.add('rotate', { photoId: '1' });
  // @ts-expect-error the data is DataType
  await queue.add('crop', { id: 1 });
  await queue.addBulk([{ name: 'crop', data: { photoId: '2' } }]);
  const counts = await queue.getJobCounts();
  counts.waiting + counts.prioritized;
  const some: { [state: string]: number } = await queue.getJobCounts('wait', 'failed');
  await queue.getJobCountByTypes('delayed', 'waiting');
  const jobs = await queue.getJobs(['completed', 'failed'], 0, 10, true);
  jobs[0]?.returnvalue?.ok;
  await queue.getWaiting(0, 1); await queue.getActiveCount(); await queue.getPrioritized();
  const removed: string[] = await queue.clean(60_000, 100, 'completed');
  await queue.drain(true);
  await queue.retryJobs({ count: 100, state: 'failed' });
  await queue.promoteJobs({ count: 10 });
  const schedulerJob = await queue.upsertJobScheduler('nightly', { pattern: '0 3 * * *', tz: 'UTC' }, { name: 'crop', data: { photoId: 'x' } });
  (await queue.getJobSchedulers()).map((s) => s.next);
  const gone: boolean = await queue.removeJobScheduler('nightly');
  (await queue.getMetrics('completed')).meta.prevTS;
  const series: { meta: { count: number; prevTS: number; prevCount: number }; data: number[]; count: number } = await queue.getMetrics('failed');
  (await queue.getWorkers()).map((w) => w['name']);
  (await queue.getQueueEvents()).map((c) => c['rawname']);
  const perPriority: number = (await queue.getCountsPerPriority([0, 1]))['1'];
  const orphans: number = await queue.removeOrphanedJobs(1000, 10_000);
  const exposition: string = await queue.exportPrometheusMetrics({ env: 'prod' });
  await queue.trimEvents(1000);
  queue.on('waiting', (j) => j.data.photoId);
  queue.on('cleaned', (ids, type) => ids.length + type.length);
  await queue.obliterate({ force: true });
  await queue.close();

  const worker = new Worker<Photo, { ok: boolean }>('photos', async (j, ctx) => {
    await j.updateProgress(50);
    await j.log(`attempt ${ctx.attemptNumber}`);
    return { ok: j.data.photoId.length > 0 };
  }, { connection: { host: '127.0.0.1', port: 6379 }, concurrency: 4, autorun: false, limiter: { max: 10, duration: 1000 } });
  worker.on('completed', (j, result, prev) => result.ok && j.returnvalue.ok && prev.length);
  worker.on('failed', (j, err) => j?.failedReason ?? err.message);
  worker.on('active', (j, prev) => j.processedOn);
  worker.on('progress', (j, progress) => progress);
  worker.on('stalled', (jobId: string, prev: string) => jobId + prev);
  worker.on('closing', (msg: string) => msg);
  // @ts-expect-error not a worker event
  worker.on('finished', () => {});
  worker.concurrency = 8;
  const stats = worker.stats();
  stats.completed + stats.failed + stats.lastActivityMs + stats.uptimeMs;
  const flags: boolean = stats.errored || stats.paused;
  void worker.run();
  await worker.pause(true);
  await worker.resume();
  worker.isPaused() && worker.isRunning();
  await worker.rateLimit(1000);
  const limited: Error = Worker.RateLimitError();
  await worker.close(true);

  const events = new BullQueueEvents('photos', { connection: 'redis://127.0.0.1:6379', autorun: true });
  events.on('completed', ({ jobId, returnvalue }, id) => jobId + id + String(returnvalue));
  events.on('failed', ({ failedReason }) => failedReason);
  events.on('progress', ({ data }) => data);
  events.on('retries-exhausted', ({ attemptsMade }) => attemptsMade);
  const stored = await JobClass.fromId<Photo>(queue, job.id);
  const state: JobStateName | 'unknown' = (await stored?.getState()) ?? 'unknown';
  const result = await job.waitUntilFinished(events, 5000);
  result.ok;
  await job.changePriority({ priority: 3 });
  await job.changeDelay(100);
  await job.promote();
  await job.retry('failed');
  await job.extendLock(job.token ?? '', 30_000);
  await job.moveToDelayed(Date.now() + 1000, job.token);

  // manual processing
  const manual = new Worker<Photo, string>('photos', null, { drainDelay: 1 });
  const taken = await manual.getNextJob('my-token', { block: false });
  if (taken) {
    const [jobData, jobId, limitMs, delayUntil] = await taken.moveToCompleted('done', 'my-token');
    if (jobData) JobClass.fromJSON<Photo>(manual, jobData, jobId).data.photoId.length;
    void limitMs; void delayUntil;
    const afterFail: NextJobData | undefined = await taken.moveToFailed(new Error('no'), 'my-token', true);
    const ttl: number = await taken.moveToWait('my-token');
    // @ts-expect-error the return value is the worker's ResultType
    await taken.moveToCompleted(42, 'my-token');
    void afterFail; void ttl;
  }
  await manual.startStalledCheckTimer();
  await manual.close();
  await job.isCompleted(); await job.isFailed(); await job.remove();
  job.asJSON().data.length;
  await events.close();
  new UnrecoverableError('bad input');
  new DelayedError(); new RateLimitError(); new WaitingChildrenError();
  void photoId; void some; void removed; void schedulerJob; void gone; void limited; void state;
}

// The design's types where it types them, and the traps of the former declarations.
async function designTypes(c: JobQueueCoordinator): Promise<void> {
  // a design-style AutoScalingPolicy (its six fields) needs no checkInterval
  const policy: AutoScalingPolicy = {
    targetProcessingTime: 60_000,
    scalingFactor: 1.2,
    scaleUpCooldown: 300_000,
    scaleDownCooldown: 300_000,
    maxScaleUpStep: 2,
    maxScaleDownStep: 1,
  };
  await c.workerPoolManager.enableAutoScaling('q', policy);
  // recurring options read back with their types (no index signature turning them unknown)
  const options: RecurringJobOptions = { priority: 2, maxRetries: 3, backoffStrategy: { type: 'fixed', delay: 10 } };
  const priority: number = (options.priority ?? 0) + 1;
  const delay: number = options.backoffStrategy?.delay ?? 0;
  // @ts-expect-error a misspelt option is an error
  await c.enqueueJob('q', {}, { priorty: 1 });
  const rep = await c.scheduleRecurringJob('q', 'tick', {}, '*/5 * * * *');
  rep.nextRun.getTime() + rep.cronExpression.length;
  const run: JobClass<{ n: number }> = await c.scheduleRecurringJob('q', 'tick', { n: 1 }, { every: 1000 });
  const everyRep: RepeatableJob = await c.jobScheduler.scheduleRecurringJob('q', 'tick', { n: 1 }, { every: 1000 }, {});
  const everyRun: JobClass = await c.jobScheduler.scheduleRecurringJob('q', 'tick', { n: 1 }, { every: 1000 });
  void everyRep; void everyRun;
  const failed: FailedJob[] = await c.getFailedJobs('q', 10);
  failed.map((f) => f.error.name + f.error.message + f.attempts + f.failedAt.getTime() + f.originalJobOptions);
  const stats = await c.getFailedJobStatistics('q');
  stats.totalFailedJobs + (stats.failuresByJobType['a'] ?? 0) + (stats.failuresByErrorType['TypeError'] ?? 0);
  stats.oldestFailure?.getTime();
  const retries = await c.getRetryStatistics('q');
  retries.queueName + retries.retriesByErrorType['Error'];
  const ws = await c.getWorkerStatus('w');
  ws.lastActivity.getTime();
  const byQueue: Map<string, Queue> = c.getAllQueues();
  for (const [name, q] of c.getAllQueues()) await q.getJobCounts().then((n) => n.waiting + name.length);
  const names: string[] = c.getQueueNames();
  const managed: ManagedWorker = await c.registerWorker({ queueName: 'q', processor: async (job) => job.id });
  const retried: boolean = await c.retryJob('q', '1');
  const cancelled: boolean = await c.cancelJob('q', '1');
  await c.createQueue('orders', { name: 'orders', concurrency: 2 });
  const status = await c.getQueueStatus('q');
  status.health.metrics.errorRate + status.counts.waiting;
  const m = await c.metricsCollector.getQueueMetrics('q');
  m.jobCounts.waiting + m.processingTime.p95;
  (await c.metricsCollector.getWorkerMetrics('w')).totalWorkers;
  c.metricsCollector.incrementCounter('jobs_total', { queue: 'q' });
  c.metricsCollector.setGauge('depth', 3, { queue: 'q' });
  c.metricsCollector.recordHistogram('duration_ms', 12, { queue: 'q' });
  (await c.performanceOptimizer.optimizeQueue('q')).recommendations.map((r) => r.expectedImpact);
  (await c.performanceOptimizer.analyzeBottlenecks('q')).cpuUsage;
  (await c.performanceOptimizer.recommendScaling('q')).recommendedWorkers;
  (await c.healthChecker.checkQueueHealth('q')).issues.map((i) => i.severity);
  c.retryHandler.calculateRetryDelay(2, { type: 'exponential', delay: 1000 });
  c.retryHandler.shouldRetry(new Error('x'), 1, 3);
  const decision = await c.retryHandler.handleJobRetry(run, new Error('x'));
  decision.action === 'retry' ? decision.delay : 0;
  await c.deadLetterHandler.handleFailedJob(run, new Error('x'));
  const waiting: JobStatus = JobStatus.WAITING;
  QUEUE_TYPES['photo-processing']?.defaultOptions.settings?.stalledInterval;
  QUEUE_TYPES['photo-processing']?.defaultOptions.defaultJobOptions?.attempts;
  void priority; void delay; void byQueue; void names; void managed; void retried; void cancelled; void waiting;
}

void usage;
void native;
void bullmq;
void designTypes;

// The design's forms settled by the surface audit: the repeat job option, RepeatableJob of an
// every-schedule, the synchronous queue names, the worker repository's null, the logger forms.
async function auditedForms(c: JobQueueCoordinator) {
  const first = await c.enqueueJob('reports', 'daily', { kind: 'sales' }, { repeat: { cron: '0 6 * * *', tz: 'UTC', limit: 30 } });
  first.id;
  const rec: RepeatableJob = await c.scheduleRecurringJob('q', 'beat', { v: 1 }, { every: 1000 }, {});
  rec.nextRun.getTime() + rec.cronExpression.length;
  const names: string[] = c.getQueueNames();
  const fresh = await c.refreshQueues();
  fresh.get('q')?.name;
  const w = c.getWorker('id');
  if (w !== null) w.processedJobs + w.lastActivity.getTime();
  const st: WorkerStatus = await c.getWorkerStatus('id');
  const s: 'active' | 'paused' | 'error' | 'stale' = st.status;
  // @ts-expect-error a bulk add takes no repeat
  await c.enqueueBulk('q', [{ data: { a: 1 }, options: { repeat: { every: 10 } } }]);
  const designLogger = { debug(msg: string, fields?: object) {}, info(msg: string, fields?: object) {}, warn(msg: string) {}, error(msg: string) {} };
  const pinoLike = { debug(fields: object, msg: string) {}, info(fields: object, msg: string) {}, warn(fields: object, msg: string) {}, error(fields: object, msg: string) {} };
  new JobQueueCoordinator({ logger: designLogger });
  new JobQueueCoordinator({ logger: pinoLike, loggerStyle: 'pino' });
  createLogger({ target: pinoLike, style: 'pino' });
  void names; void s;
}
void auditedForms;

// security: the managers, forClient views, errors, TLS options, the ACL rule
import {
  AuthorizationError,
  SecurityError,
  redisAclRule,
  type AuditEntry,
  type Permission,
  type RateLimitDecision,
  type RedisTlsOptions,
} from '@shared-infra/job-queue';

async function security(c: JobQueueCoordinator) {
  const tls: RedisTlsOptions = { ca: [Buffer.from('pem'), 'pem'], cert: 'pem', key: 'pem', rejectUnauthorized: true };
  new JobQueueCoordinator({ redis: { host: 'h', username: 'jq', password: 'p', tls } });
  new JobQueueCoordinator({ redis: { tls: true }, security: { maxJobAge: 0, auditEnqueues: true, accessControl: { defaultPolicy: 'deny' } } });
  await c.createQueue({ name: 'orders', schema: { type: 'object' }, jobSchemas: { refund: { required: ['amount'] } } });
  await c.enqueueJob('orders', 'create', { id: 1 }, { clientId: 'web' });
  const s = c.securityManager;
  await s.validateJobData('orders', 'create', { id: 1 });
  const clean: { a: number } = s.sanitizeJobInput({ a: 1 });
  const d: RateLimitDecision = await s.checkClientRateLimit('web', { cost: 2, scope: 'http' });
  const wait: number = d.retryAfterMs;
  await s.auditJobActivity({ queue: 'orders', id: 7 }, 'inspect', { actor: 'ops' });
  const log: AuditEntry[] = await s.getAuditLog({ since: new Date(), actor: 'web', limit: 10 });
  log[0].timestamp.getTime();
  const a = c.accessControl;
  const added: number = await a.grant('web', { resource: 'orders', actions: ['enqueue'], conditions: [{ field: 'jobType', operator: 'in', value: ['create'] }] });
  const removed: number = await a.revoke('web', 'orders', ['enqueue']);
  const perms: Permission[] = await a.getClientPermissions('web');
  const ok: boolean = await a.canEnqueueJob('web', 'orders', 'create');
  await a.authorize('web', 'manage', 'orders');
  const web = c.forClient('web');
  await web.enqueueJob('orders', 'create', { id: 2 });
  await web.pauseQueue('orders');
  const names: string[] = await web.getQueueNames();
  await web.registerWorker('orders', async () => 1, { clientId: 'web' });
  // @ts-expect-error a view has no getQueue (a Queue object is not checked)
  web.getQueue('orders');
  try {
    await web.retryJob('orders', '1');
  } catch (err) {
    if (err instanceof AuthorizationError) err.code === 'ERR_FORBIDDEN' && err.clientId;
    if (err instanceof SecurityError) err.violations.map((v) => v.rule);
    if (err instanceof RateLimitError) err.retryAfterMs;
  }
  const rule: string[] = redisAclRule('app', 'jq', 'secret');
  void clean; void wait; void added; void removed; void perms; void ok; void names; void rule;
}
void security;
