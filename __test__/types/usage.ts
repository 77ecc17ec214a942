// Compiled with `tsc --noEmit` (npm run typecheck): the public types accept the design's
// usage and reject what they should.
import {
  jobCoordinator,
  JobQueueCoordinator,
  UnrecoverableError,
  ValidationError,
  type QueueStatus,
  type AddedJob,
  TimeoutError,
  QUEUE_TYPES,
  QueueEvents,
  Worker,
  createLogger,
  type QueueMetrics,
  type QueueHealthStatus,
  type WorkerPool,
  type ScalingResult,
  type WorkerStatus,
  type RepeatableJob,
  type RetryStatistics,
  type FailedJobStatistics,
  type ScheduledJob,
} from '../..';
import type { NativeEngine, NativeWorker } from '../../binding';

async function usage(): Promise<void> {
  const photo: AddedJob<{ type: string; photoId: number }> = await jobCoordinator.enqueueJob(
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
  worker.on('failed', (job, err: Error, prev: string, info) => info.retrying && job?.opts.attempts);
  worker.on('completed', (job, result) => job.id);
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
  stats.byAttempt['1'];
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
  (await c.getAllQueues()).get('orders')?.config?.concurrency;
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

  const m: QueueMetrics = await c.getQueueMetrics('orders');
  m.processingTime.p99 + m.waitTime.p50 + m.errorRate;
  const text: string = await c.exportPrometheusMetrics();
  const health: QueueHealthStatus = await c.checkQueueHealth('orders', { maxWaiting: 10 });
  health.issues.map((i) => i.rule);
  (await c.getHealthRecommendations('orders')).map((r) => r.type);
  (await c.getHealth()).redis.latencyMs;
  (await c.collectMetrics()).system.memory.rss;
  const stream: QueueEvents = await c.events('orders');
  stream.on('completed', (e, id: string) => e.jobId + id);
  stream.on('delayed', (e) => e.delay.toFixed());
  await stream.close();
  const events = new QueueEvents('orders', { connection: 'redis://127.0.0.1:6379', lastEventId: '0' });
  await events.waitUntilReady();
  const bw = new Worker<{ n: number }, number>('orders', async (job) => job.data.n, { concurrency: 2, autorun: false, settings: { backoffStrategy: () => 10 } });
  bw.concurrency = 4;
  bw.on('completed', (job, result: number) => job.token ?? result);
  bw.on('stalled', (jobId: string, prev: string) => jobId + prev);
  await bw.rateLimit(10);
  await bw.pause(true);
  bw.resume();
  await bw.close(true);
  void Worker.RateLimitError().code;
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
  nativeWorker.complete([1], ['null']);
  nativeWorker.fail([1], ['TypeError'], ['m'], [null], [false]);
  w.setConcurrency(2);
  w.rateLimit(10);
  w.release([1]);
  w.failWithDelay(1, 'Error', 'm', null, 100);
  const last: string | null = await engine.lastEventId('q');
  const watch = await engine.watchEventsBlocking('q', last, 100, (batch: string) => {});
  watch.close();
  await w.close(10);
  const upserted: string = await engine.upsertScheduler('q', '{}');
  const removed: boolean = await engine.removeScheduler('q', 'id');
  await engine.changePriority('q', '1', 2);
  await engine.changeDelay('q', '1', 2);
  void upserted;
  void removed;
  void text;
}
void usage;
void native;
