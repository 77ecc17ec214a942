'use strict';
// Our package's coordinator (`require('../..')`, the package root). If it cannot be loaded
// (not built yet), `unavailable` says why and the driver skips this peer.
//
// Two peers: `ours` runs workers at their defaults (no prefetch, as BullMQ), and
// `ours-prefetch` passes `prefetch: 'auto'` to registerWorker (one job held ahead while
// attempts are short), so a run shows what the default costs or saves.

let JobQueueCoordinator = null;
let unavailable = null;
let version = null;
try {
  ({ JobQueueCoordinator } = require('../..'));
  version = require('../../package.json').version;
  if (typeof JobQueueCoordinator !== 'function') throw new Error('JobQueueCoordinator is not exported');
} catch (err) {
  unavailable = err.message.split('\n')[0];
}

const JOB_NAME = 'bench';

class OursPeer {
  constructor({ url, prefix, queue }, workerOptions = {}) {
    this.url = url;
    this.workerOptions = workerOptions;
    this.prefix = prefix;
    this.queueName = queue;
    this.coord = null;
    this.worker = null;
  }

  async open() {
    this.coord = new JobQueueCoordinator({ redis: { url: this.url, keyPrefix: this.prefix } });
    await this.coord.initialize();
  }

  /** Always explicit: the coordinator's default attempts may be above 1. */
  jobOptions({ attempts = 1, backoffMs = 0 } = {}) {
    return attempts > 1 ? { attempts, backoff: { type: 'fixed', delay: backoffMs } } : { attempts: 1 };
  }

  enqueueOne(data, opts) {
    return this.coord.enqueueJob(this.queueName, JOB_NAME, data, opts);
  }

  enqueueBulk(items) {
    return this.coord.enqueueBulk(
      this.queueName,
      items.map(({ data, opts }) => ({ name: JOB_NAME, data, options: opts })),
    );
  }

  async startWorker({ concurrency, processor, onCompleted }) {
    this.worker = await this.coord.registerWorker(this.queueName, (job) => processor(job.data), {
      ...this.workerOptions,
      concurrency,
    });
    this.worker.on('error', (err) => console.error(`ours worker error: ${err.message}`));
    if (onCompleted) this.worker.on('completed', () => onCompleted());
  }

  async counts() {
    const c = (await this.coord.getQueueStatus(this.queueName)).jobCounts;
    return { waiting: c.waiting + (c.prioritized || 0), active: c.active, completed: c.completed, failed: c.failed, delayed: c.delayed };
  }

  async close() {
    if (this.worker) await this.worker.close();
    if (this.coord) await this.coord.shutdown();
    this.worker = null;
    this.coord = null;
  }
}

module.exports = {
  name: 'ours',
  version,
  unavailable,
  create: (opts) => new OursPeer(opts),
  /** The same peer with `prefetch: 'auto'` on its workers. */
  prefetch: {
    name: 'ours-prefetch',
    version,
    unavailable,
    create: (opts) => new OursPeer(opts, { prefetch: 'auto' }),
  },
};
