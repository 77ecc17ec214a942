'use strict';
// The shards benchmark's peers: this package's coordinator and BullMQ 6, each driving N queues
// at once on one Redis server or on a Redis Cluster. Same calls as bench/peers/ours.js and
// bench/peers/bullmq.js (bulk adds, one worker per queue, a no-op processor), with one queue
// per hash tag so that a cluster spreads the queues over its masters.
//
// create({ target, prefix, queues }) where target is { kind: 'single', url } or
// { kind: 'cluster', nodes: [{ host, port }] }.

const JOB_NAME = 'bench';

let JobQueueCoordinator = null;
let oursUnavailable = null;
try {
  ({ JobQueueCoordinator } = require('..'));
  if (typeof JobQueueCoordinator !== 'function') throw new Error('JobQueueCoordinator is not exported');
} catch (err) {
  oursUnavailable = err.message.split('\n')[0];
}

/** Keeps what the coordinator logs at warn and above, counted by message, off the console. */
function collectingLogger() {
  const counts = new Map();
  const keep = (level) => (msg, fields = {}) => {
    const key = `${level}: ${msg}${fields.error ? ` (${fields.error})` : ''}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  };
  return { counts, logger: { debug() {}, info() {}, warn: keep('warn'), error: keep('error') } };
}

class OursShardsPeer {
  constructor({ target, prefix, queues }) {
    this.target = target;
    this.prefix = prefix;
    this.queues = queues;
    this.coord = null;
    this.workers = [];
    this.log = collectingLogger();
  }

  async open() {
    const redis =
      this.target.kind === 'cluster'
        ? { cluster: { nodes: this.target.nodes }, keyPrefix: this.prefix }
        : { url: this.target.url, keyPrefix: this.prefix };
    this.coord = new JobQueueCoordinator({ redis, logger: this.log.logger });
    await this.coord.initialize();
  }

  enqueueBulk(q, items) {
    return this.coord.enqueueBulk(
      this.queues[q],
      items.map((data) => ({ name: JOB_NAME, data, options: { attempts: 1 } })),
    );
  }

  async startWorkers({ concurrency, processor, onCompleted }) {
    for (const queue of this.queues) {
      const worker = await this.coord.registerWorker(queue, (job) => processor(job.data), { concurrency });
      worker.on('error', (err) => console.error(`ours worker error (${queue}): ${err.message}`));
      worker.on('completed', () => onCompleted());
      this.workers.push(worker);
    }
  }

  async countsOf(queue) {
    const c = (await this.coord.getQueueStatus(queue)).jobCounts;
    return { waiting: c.waiting + (c.prioritized || 0), active: c.active, completed: c.completed, failed: c.failed, delayed: c.delayed };
  }

  /** What the coordinator logged at warn or above during the run: [message, count]. */
  warnings() {
    return [...this.log.counts.entries()];
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.close()));
    if (this.coord) await this.coord.shutdown();
    this.workers = [];
    this.coord = null;
  }
}

class BullMQShardsPeer {
  constructor({ target, prefix, queues }) {
    const { Queue, Worker } = require('bullmq');
    this.Queue = Queue;
    this.Worker = Worker;
    this.IORedis = require('ioredis');
    this.target = target;
    this.prefix = prefix;
    this.queues = queues;
    this.connections = [];
    this.queueObjects = [];
    this.workers = [];
    this.errors = new Map();
  }

  /** A new ioredis client: a Cluster on a cluster (BullMQ needs maxRetriesPerRequest null
   * on a worker's connection; on a Cluster it goes in redisOptions). */
  connection() {
    const conn =
      this.target.kind === 'cluster'
        ? new this.IORedis.Cluster(this.target.nodes, { redisOptions: { maxRetriesPerRequest: null } })
        : new this.IORedis(this.target.url, { maxRetriesPerRequest: null });
    this.connections.push(conn);
    return conn;
  }

  noteError(where) {
    return (err) => {
      const key = `${where}: ${err.message}`;
      this.errors.set(key, (this.errors.get(key) || 0) + 1);
    };
  }

  async open() {
    for (const name of this.queues) {
      const queue = new this.Queue(name, { connection: this.connection(), prefix: this.prefix });
      queue.on('error', this.noteError('queue error'));
      this.queueObjects.push(queue);
    }
    await Promise.all(this.queueObjects.map((q) => q.waitUntilReady()));
  }

  enqueueBulk(q, items) {
    return this.queueObjects[q].addBulk(items.map((data) => ({ name: JOB_NAME, data, opts: { attempts: 1 } })));
  }

  async startWorkers({ concurrency, processor, onCompleted }) {
    for (const name of this.queues) {
      const worker = new this.Worker(name, (job) => processor(job.data), {
        connection: this.connection(),
        prefix: this.prefix,
        concurrency,
      });
      worker.on('error', this.noteError('worker error'));
      worker.on('completed', () => onCompleted());
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  async countsOf(queue) {
    const q = this.queueObjects[this.queues.indexOf(queue)];
    const c = await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return { waiting: c.waiting + c.prioritized, active: c.active, completed: c.completed, failed: c.failed, delayed: c.delayed };
  }

  warnings() {
    return [...this.errors.entries()];
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all(this.queueObjects.map((q) => q.close()));
    // BullMQ leaves connections it was given open.
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    this.workers = [];
    this.queueObjects = [];
    this.connections = [];
  }
}

/** Sum of every queue's counts (what `completion` in scenarios.js polls when events stall). */
async function totalCounts(peer) {
  const all = await Promise.all(peer.queues.map((q) => peer.countsOf(q)));
  const out = { waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 };
  for (const c of all) for (const k of Object.keys(out)) out[k] += c[k] || 0;
  return out;
}

module.exports = {
  PEERS: {
    ours: {
      name: 'ours',
      version: require('../package.json').version,
      unavailable: oursUnavailable,
      create: (opts) => new OursShardsPeer(opts),
    },
    bullmq: {
      name: 'bullmq',
      version: require('bullmq/package.json').version,
      unavailable: null,
      create: (opts) => new BullMQShardsPeer(opts),
    },
  },
  totalCounts,
};
