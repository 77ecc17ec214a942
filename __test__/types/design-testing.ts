// The design's testing strategy and configuration examples, as written there: the example test
// of the coordinator using the package's test utilities (from '@shared-infra/job-queue/testing'),
// and the development configuration file, read as the coordinator's configuration. The test
// framework's globals and the test configuration the example leaves undefined are declared.
import {
  JobQueueCoordinatorImpl,
  JobQueueCoordinator,
  Queue,
  type JobQueueCoordinatorConfig,
  type JobQueueCoordinatorOptions,
} from '@shared-infra/job-queue';
import { JobQueueTestUtils } from '@shared-infra/job-queue/testing';

declare function describe(name: string, body: () => void): void;
declare function beforeEach(body: () => Promise<void> | void): void;
declare function test(name: string, body: () => Promise<void> | void): void;
declare function expect(value: unknown): { toBe(expected: unknown): void };
declare const testConfig: JobQueueCoordinatorConfig;

// --- Testing strategy: the example test.
// Example test
describe('JobQueueCoordinator', () => {
  let coordinator: JobQueueCoordinator;
  let testQueue: Queue;

  beforeEach(async () => {
    coordinator = new JobQueueCoordinatorImpl(testConfig);
    testQueue = await JobQueueTestUtils.createTestQueue('test-queue');
  });

  test('should process jobs successfully', async () => {
    const processor = JobQueueTestUtils.createMockProcessor(50);
    const worker = await coordinator.registerWorker('test-queue', processor);

    const job = await coordinator.enqueueJob('test-queue', 'test-job', {
      message: 'Hello, World!'
    });

    const completedJob = await JobQueueTestUtils.waitForJob(testQueue, job.id!);
    
    expect(completedJob.isCompleted).toBe(true);
    expect(completedJob.returnvalue.success).toBe(true);
  });
});

// --- Testing strategy: the test utilities' signatures, as the design declares them.
const createTestQueue: (name: string) => Promise<Queue> = JobQueueTestUtils.createTestQueue;
const waitForJob: (queue: Queue, jobId: string, timeout?: number) => ReturnType<typeof JobQueueTestUtils.waitForJob> = JobQueueTestUtils.waitForJob;
const failing = JobQueueTestUtils.createMockProcessor(100, true);
void createTestQueue; void waitForJob; void failing;

// --- Development setup: the configuration file the setup script writes, given to the
// coordinator (every part of the configuration may be left out).
const devConfig: JobQueueCoordinatorOptions = {
  "redis": {
    "host": "localhost",
    "port": 6379,
    "db": 0,
    "keyPrefix": "photo-queue:dev:"
  },
  "defaultJobOptions": {
    "attempts": 3,
    "backoff": { "type": "exponential", "delay": 2000 },
    "removeOnComplete": 50,
    "removeOnFail": 25
  },
  "monitoring": {
    "metricsCollection": { "enabled": true, "interval": 10000 },
    "healthChecks": { "enabled": true, "interval": 30000 }
  }
};
export const devCoordinator = new JobQueueCoordinator(devConfig);

// The resolved configuration has every design field.
export const keyPrefix: string = devCoordinator.config.redis.keyPrefix;
export const autoScalingInterval: number = devCoordinator.config.performance.autoScaling.checkInterval;
