'use strict';
// Our package's BullMQ-style classes: this file is bench/peers/bullmq.js line for line with
// `require('bullmq')` swapped for the package root, so this peer against `bullmq` compares
// the engines under identical calls, and against `ours` (the coordinator) shows what the
// classes add on the same engine. If the package cannot be loaded (not built yet),
// `unavailable` says why and the driver skips this peer.
//
// One deliberate difference: `connection()` returns ioredis options rather than an ioredis
// instance. Our classes open their own connections from either (an instance is only read for
// its options), so an instance would add an idle socket and nothing else.

let Queue = null;
let Worker = null;
let unavailable = null;
let version = null;
try {
  ({ Queue, Worker } = require('../..'));
  version = require('../../package.json').version;
  if (typeof Queue !== 'function' || typeof Worker !== 'function') throw new Error('Queue or Worker is not exported');
} catch (err) {
  unavailable = err.message.split('\n')[0];
}

const JOB_NAME = 'bench';

class OursClassesPeer {
  constructor({ url, prefix, queue }) {
    this.url = url;
    this.prefix = prefix;
    this.queueName = queue;
    this.connections = [];
    this.queue = null;
    this.worker = null;
  }

  connection() {
    const conn = { url: this.url, maxRetriesPerRequest: null };
    this.connections.push(conn);
    return conn;
  }

  async open() {
    this.queue = new Queue(this.queueName, { connection: this.connection(), prefix: this.prefix });
    this.queue.on('error', (err) => console.error(`ours-classes queue error: ${err.message}`));
    await this.queue.waitUntilReady();
  }

  /** `{attempts, backoffMs}` in BullMQ's spelling; BullMQ's default is already 1 attempt. */
  jobOptions({ attempts = 1, backoffMs = 0 } = {}) {
    return attempts > 1 ? { attempts, backoff: { type: 'fixed', delay: backoffMs } } : { attempts: 1 };
  }

  enqueueOne(data, opts) {
    return this.queue.add(JOB_NAME, data, opts);
  }

  enqueueBulk(items) {
    return this.queue.addBulk(items.map(({ data, opts }) => ({ name: JOB_NAME, data, opts })));
  }

  async startWorker({ concurrency, processor, onCompleted }) {
    this.worker = new Worker(this.queueName, (job) => processor(job.data), {
      connection: this.connection(),
      prefix: this.prefix,
      concurrency,
    });
    this.worker.on('error', (err) => console.error(`ours-classes worker error: ${err.message}`));
    if (onCompleted) this.worker.on('completed', () => onCompleted());
    await this.worker.waitUntilReady();
  }

  async counts() {
    const c = await this.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return { waiting: c.waiting + c.prioritized, active: c.active, completed: c.completed, failed: c.failed, delayed: c.delayed };
  }

  async close() {
    if (this.worker) await this.worker.close();
    if (this.queue) await this.queue.close();
    // Nothing else to close: the connections above are options, not clients.
    this.worker = null;
    this.queue = null;
    this.connections = [];
  }
}

module.exports = {
  name: 'ours-classes',
  version,
  unavailable,
  create: (opts) => new OursClassesPeer(opts),
};
