// How services use the package, as the design shows it: its service examples and its
// architecture document's snippets, copied as they are written there. Only imports are adapted,
// plus `declare`s for what the snippets take from their surroundings (an Express app, helpers,
// a Redis client). Compiled as an ES module (top-level await, as the worker example uses), so
// the package resolves through its "exports" map's ESM entry.
import { jobCoordinator, Queue, Worker, JobQueueCoordinator } from '@shared-infra/job-queue';
import type { Job, JobProcessor } from '@shared-infra/job-queue';
import type { Redis as IORedis } from 'ioredis';
import * as fs from 'node:fs';

declare const app: { post(path: string, handler: (req: { file: unknown }, res: { json(body: unknown): void }) => Promise<void>): void };
declare function savePhoto(file: unknown): Promise<{ id: string; tempPath: string }>;
declare function processPhoto(photoId: string, filePath?: string): Promise<void>;
declare function generateThumbnails(photoId: string): Promise<void>;
declare const coordinator: JobQueueCoordinator;
declare const redis: IORedis;
declare const processor: JobProcessor;
declare const name: string;
declare const queueName: string;
declare const data: { photoId: string };
declare function handleCompleted(job: Job, result: unknown): void;
declare function handleFailed(job: Job | undefined, err: Error): void;
declare function handleActive(job: Job): void;
declare function handleStalled(jobId: string): void;
declare function processJob(data: unknown): Promise<void>;
declare function isRetryable(error: unknown): boolean;
declare function sendAlert(message: string, details: unknown): void;
declare function generateTraceId(): string;
declare const logger: { info(msg: string, fields: object): void };

// --- The service examples: the API service enqueues a photo job when a photo is uploaded.
app.post('/photos/upload', async (req, res) => {
  const photo = await savePhoto(req.file);

  // Use the coordinator library to queue processing
  await jobCoordinator.enqueueJob('photo-processing', {
    type: 'process-photo',
    photoId: photo.id,
    filePath: photo.tempPath
  });

  res.json({ success: true, photoId: photo.id });
});

// --- The service examples: the worker service registers a processor (top-level await).
await jobCoordinator.registerWorker('photo-processing', async (job) => {
  const { photoId, filePath } = job.data;

  // Do the actual work
  await processPhoto(photoId, filePath);
  await generateThumbnails(photoId);

  return { success: true };
});

// --- The service examples: the library's simplified interface, every member called.
async function simplifiedInterface(): Promise<void> {
  await jobCoordinator.enqueueJob('photo-processing', { photoId: '1' }, { priority: 1 });
  await jobCoordinator.registerWorker('photo-processing', async (job) => job.data);
  await jobCoordinator.getQueueStatus('photo-processing');
  await jobCoordinator.getFailedJobs('photo-processing');
  await jobCoordinator.retryJob('job-id');
}

// --- Architecture, producer flow: enqueue with design-style options.
async function producerFlow(): Promise<string> {
  // API Service
  const job = await coordinator.enqueueJob('photo-processing', {
    photoId: '123',
    operation: 'thumbnail'
  }, {
    priority: 1,
    maxRetries: 3
  });
  return job.id;
}

// --- Architecture, consumer flow: a worker returning a result.
async function consumerFlow(): Promise<void> {
  // Worker Service
  await coordinator.registerWorker('photo-processing', async (job) => {
    // Process job
    await processPhoto(job.data.photoId);
    return { success: true };
  });
}

// --- Architecture, BullMQ integration: the BullMQ classes built on an ioredis connection.
function bullmqIntegration(): void {
  // Internal: QueueManager creates BullMQ Queue
  const queue = new Queue(name, {
    connection: redis.duplicate(),
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
    }
  });

  // Internal: WorkerManager creates BullMQ Worker
  const worker = new Worker(queueName, processor, {
    connection: redis.duplicate(),
    concurrency: 5,
    limiter: { max: 100, duration: 1000 }
  });
  void queue;
  void worker;
}

// --- Architecture, facade pattern. The design elides the backoff and the listeners as `{...}`
// and `...`; here they are filled in with a backoff and the handlers declared above.
async function facadePattern(): Promise<void> {
  // Without Coordinator (BullMQ directly)
  const queue = new Queue('my-queue', { connection: redis });
  const worker = new Worker('my-queue', processor, { connection: redis });
  queue.add('job', data, { attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
  worker.on('completed', handleCompleted);
  worker.on('failed', handleFailed);

  // With Coordinator (Simple)
  await coordinator.createQueue({ name: 'my-queue' });
  await coordinator.registerWorker('my-queue', processor);
  await coordinator.enqueueJob('my-queue', data);

  // --- Architecture, event-driven: queue and worker events.
  // Queue events
  queue.on('completed', handleCompleted);
  queue.on('failed', handleFailed);

  // Worker events
  worker.on('active', handleActive);
  worker.on('stalled', handleStalled);
}

// --- Architecture, repository pattern: the managers as repositories.
async function repositoryPattern(id: string): Promise<void> {
  const { queueManager, workerManager } = coordinator;
  // Queue repository
  queueManager.getQueue(name)
  queueManager.getQueueNames()
  queueManager.getQueueStatus(name)

  // Worker repository
  workerManager.getWorker(id)
  workerManager.getWorkersByQueue(queueName)
  workerManager.getAllWorkerStatus()
}

// --- Architecture, the job scheduler's methods (the four-argument recurring form among them).
async function jobScheduler(jobId: string): Promise<void> {
  const scheduler = coordinator.jobScheduler;
  const one: Job<{ to: string }> = await scheduler.scheduleJob('emails', 'send', { to: 'a@b.c' }, { delayMs: 1000 });
  const recurring: Job<{ day: number }> = await scheduler.scheduleRecurringJob('reports', 'daily', { day: 1 }, {
    cronExpression: '0 9 * * *',
    timezone: 'Europe/Berlin',
    maxRuns: 10,
  });
  const retried: boolean = await scheduler.retryJob('emails', jobId);
  const cancelled: boolean = await scheduler.cancelJob('emails', jobId);
  await scheduler.updateJobPriority('emails', jobId, 1);
  void one; void recurring; void retried; void cancelled;
}

// --- Architecture, the worker manager's object form and worker lifecycle.
async function workerManagerForm(): Promise<void> {
  const managed = await coordinator.workerManager.registerWorker({ queueName: 'photo-processing', processor });
  await coordinator.workerManager.scaleWorkers('photo-processing', 3);
  await coordinator.workerManager.pauseWorker(managed.id);
  await coordinator.workerManager.resumeWorker(managed.id);
  await coordinator.workerManager.closeWorker(managed.id);
  managed.lastActivity.getTime() + managed.processedJobs + managed.failedJobs;
  managed.worker.isRunning();
  // and the queue manager's createQueue(config) form
  const queue: Queue = await coordinator.queueManager.createQueue({ name: 'my-queue' });
  await coordinator.queueManager.pauseQueue(queue.name);
  await coordinator.queueManager.resumeQueue(queue.name);
}

// --- Architecture, retry strategy: design-style retry options.
async function retryStrategy(): Promise<void> {
  // Configurable retry with backoff
  await coordinator.enqueueJob('my-queue', data, {
    maxRetries: 5,
    backoffStrategy: {
      type: 'exponential',  // or 'fixed'
      delay: 2000           // initial delay
    }
  });
}

// --- Architecture, error classification. The design reads `error.message` in the catch
// clause; under `strict` a caught value is `unknown`, so the clause declares it `any`.
async function errorClassification(job: Job): Promise<void> {
  // In worker processor
  try {
    await processJob(job.data);
  } catch (error: any) {
    if (isRetryable(error)) {
      throw error;  // Will be retried
    } else {
      throw new Error('FATAL: ' + error.message);  // Won't retry
    }
  }
}

// --- Architecture, dead letter handling. The design retries a `failedJob` it does not
// define; here it is each of the failed jobs.
async function deadLetters(): Promise<void> {
  const failedJobs = await coordinator.getFailedJobs('my-queue');
  for (const failedJob of failedJobs) {
    await coordinator.retryJob('my-queue', failedJob.id);
  }
  // retryJob(queue, id) answers whether it retried
  if (await coordinator.retryJob('my-queue', failedJobs[0]?.id ?? 'x')) {
    failedJobs[0]?.error.message.length;
  }
}

// --- Architecture, dynamic scaling on the queue status' counts.
async function dynamicScaling(): Promise<void> {
  // Monitor queue depth
  const status = await coordinator.getQueueStatus('photo-processing');

  if (status.counts.waiting > 1000) {
    // Scale up
    await coordinator.scaleWorkers('photo-processing', 10);
  } else if (status.counts.waiting < 100) {
    // Scale down
    await coordinator.scaleWorkers('photo-processing', 3);
  }
}

// --- Architecture, rate limiting: BullMQ's limiter as a registerWorker option.
async function rateLimiting(): Promise<void> {
  await coordinator.registerWorker('my-queue', processor, {
    concurrency: 10,
    limiter: {
      max: 100,      // Max 100 jobs
      duration: 1000 // Per second
    }
  });
  // Prevents overwhelming downstream services
}

// --- Architecture, Redis security: the redis section of the coordinator's configuration.
function redisSecurity(): JobQueueCoordinator {
  return new JobQueueCoordinator({
    redis: {
      host: 'redis.example.com',
      port: 6379,
      password: process.env.REDIS_PASSWORD,
      tls: {
        enabled: true,
        ca: fs.readFileSync('/path/to/ca.crt')
      }
    }
  });
}

// --- Architecture, metrics collection: the queue status' counts and health metrics.
async function metricsCollection(): Promise<void> {
  // Built-in metrics
  const status = await coordinator.getQueueStatus('my-queue');

  console.log({
    waiting: status.counts.waiting,
    active: status.counts.active,
    completed: status.counts.completed,
    failed: status.counts.failed,
    errorRate: status.health.metrics.errorRate,
    throughput: status.health.metrics.throughput,
    avgProcessingTime: status.health.metrics.averageProcessingTime
  });
}

// --- Architecture, health checks.
async function healthChecks(): Promise<void> {
  const health = await coordinator.getHealth();

  if (health.status === 'unhealthy') {
    // Alert operations team
    sendAlert('Job queue unhealthy', health);
  }
}

// --- Architecture, tracing: a trace id in the data, read by the processor.
async function tracing(): Promise<void> {
  // Trace IDs for distributed tracing
  const job = await coordinator.enqueueJob('my-queue', {
    traceId: generateTraceId(),
    ...data
  });

  // Worker logs include trace ID
  await coordinator.registerWorker('my-queue', async (job) => {
    const { traceId } = job.data;
    logger.info('Processing', { traceId });
  });
  void job;
}

// --- Architecture, graceful shutdown.
process.on('SIGTERM', async () => {
  console.log('Shutting down...');
  await coordinator.shutdown();  // Closes workers, waits for active jobs
  process.exit(0);
});

void simplifiedInterface; void producerFlow; void consumerFlow; void bullmqIntegration; void facadePattern;
void repositoryPattern; void jobScheduler; void workerManagerForm; void retryStrategy; void errorClassification;
void deadLetters; void dynamicScaling; void rateLimiting; void redisSecurity; void metricsCollection;
void healthChecks; void tracing;
