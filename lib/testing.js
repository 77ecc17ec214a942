'use strict';
// @shared-infra/job-queue/testing: the design's JobQueueTestUtils, plus what a Jest, Vitest
// or node:test suite needs to keep its test files apart: a key prefix of its own per test
// file (`isolate()`), and one call that closes every queue and coordinator made through it
// and deletes the prefix's keys (`cleanup()`, for afterAll).

const { randomBytes } = require('node:crypto');
const { Queue } = require('./queue');
const { JobQueueCoordinator } = require('./coordinator');
const { ValidationError } = require('./errors');

/** Where test queues live unless `isolate`/`configure` say otherwise: REDIS_URL, else the
 * design's separate database 15 on localhost. */
function defaultConnection() {
  return process.env.REDIS_URL || { host: '127.0.0.1', port: 6379, db: 15 };
}

const state = {
  connection: undefined,
  prefix: undefined,
  made: [], // queues and coordinators to close in cleanup()
  prefixes: new Set(), // prefixes made by isolate(), deleted by cleanup()
};

function connectionOptions() {
  return { connection: state.connection ?? defaultConnection(), prefix: state.prefix ?? 'bull' };
}

class JobQueueTestUtils {
  /**
   * Where createTestQueue and createCoordinator connect: `{ connection, prefix }`
   * (a connection as Queue takes it). Returns the previous setting.
   */
  static configure({ connection, prefix } = {}) {
    const previous = { connection: state.connection, prefix: state.prefix };
    state.connection = connection;
    state.prefix = prefix;
    return previous;
  }

  /**
   * Gives this test file a key prefix no other file or run uses, and makes it the default of
   * createTestQueue and createCoordinator. Returns `{ prefix, connection, config }`, where
   * `config` is a coordinator config on that prefix (`new JobQueueCoordinatorImpl(config)`).
   */
  static isolate(tag = 'test') {
    if (typeof tag !== 'string' || !/^[\w-]+$/.test(tag)) throw new ValidationError('tag', 'must be letters, digits, - or _');
    const prefix = `${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
    state.prefix = prefix;
    state.prefixes.add(prefix);
    const connection = state.connection ?? defaultConnection();
    const redis = typeof connection === 'string' ? { url: connection, keyPrefix: prefix } : { ...connection, keyPrefix: prefix };
    return { prefix, connection, config: { redis } };
  }

  /** A coordinator on the test connection and prefix, shut down by cleanup(). */
  static createCoordinator(config = {}) {
    const { connection, prefix } = connectionOptions();
    const redis = typeof connection === 'string' ? { url: connection, keyPrefix: prefix } : { ...connection, keyPrefix: prefix };
    const coordinator = new JobQueueCoordinator({ ...config, redis: { ...redis, ...config.redis } });
    state.made.push(() => coordinator.shutdown({ timeoutMs: 2000 }));
    return coordinator;
  }

  /** A Queue on the test connection and prefix, emptied first (obliterated), as the design's
   * test utility does; closed by cleanup(). */
  static async createTestQueue(name) {
    const queue = new Queue(name, connectionOptions());
    state.made.push(() => queue.close());
    await queue.obliterate({ force: true });
    return queue;
  }

  /**
   * Resolves with the job once it has completed or failed (polling every 50 ms), or rejects
   * after `timeout` ms. Read `await job.isCompleted()` / `job.returnvalue` on the result.
   */
  static async waitForJob(queue, jobId, timeout = 5000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const job = await queue.getJob(jobId);
      if (job) {
        const s = await job.getState();
        // read it again: the copy above may predate its finish (no returnvalue yet)
        if (s === 'completed' || s === 'failed') return (await queue.getJob(jobId)) ?? job;
      }
      if (Date.now() >= deadline) throw new Error(`Job ${jobId} did not complete within ${timeout}ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A processor that takes `processingTime` ms, then returns `{ success: true, processedAt }`
   * or, with `shouldFail`, throws `Error('Mock processor failure')`. */
  static createMockProcessor(processingTime = 100, shouldFail = false) {
    return async () => {
      await new Promise((resolve) => setTimeout(resolve, processingTime));
      if (shouldFail) throw new Error('Mock processor failure');
      return { success: true, processedAt: Date.now() };
    };
  }

  /** Closes every queue and coordinator made here and deletes the keys of every prefix made
   * by isolate(). For afterAll / after. */
  static async cleanup() {
    const closers = state.made.splice(0).reverse();
    for (const close of closers) await close().catch(() => {});
    const prefixes = [...state.prefixes];
    state.prefixes.clear();
    const { connection } = connectionOptions();
    for (const prefix of prefixes) {
      const redis = typeof connection === 'string' ? { url: connection, keyPrefix: prefix } : { ...connection, keyPrefix: prefix };
      // no audit entries for this clean-up's own destroyQueue calls
      const admin = new JobQueueCoordinator({ redis, security: { enableAuditLogging: false } });
      try {
        for (const name of (await admin.refreshQueues()).keys()) await admin.destroyQueue(name, { force: true });
      } finally {
        await admin.shutdown();
      }
    }
    state.prefix = undefined;
  }
}

module.exports = { JobQueueTestUtils };
