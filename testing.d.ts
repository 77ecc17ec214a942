// @shared-infra/job-queue/testing: helpers for tests of code that uses the package.

import type { Job, Queue } from './types/bullmq';
import type { JobProcessor } from './types/design';

export declare class JobQueueTestUtils {
  /** A Queue named `name` on the test Redis, emptied first (obliterated). */
  static createTestQueue(name: string): Promise<Queue>;
  /** Resolves with the job once it has completed or failed; rejects after `timeout` ms
   * (default 5000). */
  static waitForJob(queue: Queue, jobId: string, timeout?: number): Promise<Job>;
  /** A processor that takes `processingTime` ms (default 100), then fails with "Mock processor
   * failure" when `shouldFail`, or returns `{ success: true, processedAt }`. */
  static createMockProcessor(processingTime?: number, shouldFail?: boolean): JobProcessor;
}
