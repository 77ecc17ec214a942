'use strict';
// BullMQ 6's `QueueEvents` on our engine: follows a queue's Redis events stream (written by
// our scripts and BullMQ's alike) and emits each entry as BullMQ does:
// `(eventName, args, eventId)`, where args are the entry's fields without `event`
// (`{ jobId, returnvalue, prev }` for completed, `{ jobId, failedReason, prev }` for failed,
// ...), with `progress`'s data and `completed`'s returnvalue parsed from JSON and `delayed`'s
// delay a number; `drained` gets only the event id. Each job event is also emitted as
// `<event>:<jobId>`. Our extra: `event` `(eventName, args, eventId)` for every entry.

const { GuardedEmitter } = require('./emitter');
const { ValidationError } = require('./errors');
const { call, checkQueueName } = require('./input');
const { DEFAULT_PREFIX, engineConfig, acquireEngine } = require('./connection');

const ON_ENGINE = Symbol('onEngine');

/** Fields parsed as BullMQ's QueueEvents parses them. */
function parseArgs(event, args) {
  try {
    if (event === 'progress' && typeof args.data === 'string') args.data = JSON.parse(args.data);
    else if (event === 'completed' && typeof args.returnvalue === 'string') args.returnvalue = JSON.parse(args.returnvalue);
    else if (event === 'delayed' && args.delay !== undefined) args.delay = Number(args.delay);
  } catch {
    // a value that is not JSON is passed on as the text it is
  }
  return args;
}

class QueueEvents extends GuardedEmitter {
  /**
   * `new QueueEvents(name, { connection, prefix = 'bull', autorun = true, lastEventId = '$',
   * blockingTimeout = 10000 })`. `lastEventId` `'$'` means events from when it starts
   * following the stream (`waitUntilReady()` resolves then); any other id, events after it.
   * `blockingTimeout`: ms each read of the stream waits for new entries.
   */
  constructor(name, opts = {}) {
    super();
    checkQueueName(name);
    if (opts === null || typeof opts !== 'object') throw new ValidationError('opts', 'must be an object');
    const onEngine = opts[ON_ENGINE];
    const { autorun = true, lastEventId = '$', blockingTimeout = 10000 } = opts;
    if (typeof autorun !== 'boolean') throw new ValidationError('autorun', 'must be a boolean');
    if (typeof lastEventId !== 'string' || !/^(\$|\d+(-\d+)?)$/.test(lastEventId)) {
      throw new ValidationError('lastEventId', "must be '$' or a stream id such as '1700000000000-0'");
    }
    if (!Number.isInteger(blockingTimeout) || blockingTimeout < 1 || blockingTimeout > 2 ** 32 - 1) {
      throw new ValidationError('blockingTimeout', 'must be a positive integer of ms');
    }
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    const connection = onEngine ? null : engineConfig(opts.connection, prefix);
    this.name = name;
    this.queueName = name;
    this.opts = { blockingTimeout, lastEventId, prefix, connection: opts.connection };
    this.closed = false;
    this._watch = null;
    this._running = null; // promise of run(), resolved when closed
    this._started = null; // promise: the watch is reading
    this._closing = null;
    this._release = null;
    this._onClosed = null;
    if (onEngine) {
      this._engine = Promise.resolve(onEngine.native);
    } else {
      this._engine = acquireEngine(connection).then(({ native, release }) => {
        this._release = release;
        if (this._closing) release();
        return native;
      });
      this._engine.catch((err) => this._error(err));
    }
    if (autorun) this.run().catch((err) => this._error(err));
  }

  /** A QueueEvents on an engine that is already connected (the coordinator's). */
  static _onEngine(queueName, native, opts = {}) {
    return new QueueEvents(queueName, { ...opts, [ON_ENGINE]: { native } });
  }

  /** Starts following the stream (when `autorun` was false); resolves when closed. */
  run() {
    if (this._running) return Promise.reject(new Error('Queue Events is already running.'));
    if (this._closing) return Promise.reject(new Error('Queue Events is closing'));
    this._started = this._start();
    this._running = (async () => {
      await this._started;
      if (!this.closed) await new Promise((resolve) => (this._onClosed = resolve));
    })();
    this._running.catch(() => {
      this._running = null;
    });
    return this._running;
  }

  async _start() {
    const native = await this._engine;
    let from = this.opts.lastEventId;
    // '$' would mean "from when the first read reaches Redis": start after the newest entry
    // instead, so nothing that happens once this resolves is missed
    if (from === '$') from = (await call(native.lastEventId(this.name))) ?? '0-0';
    if (this._closing) return;
    const watch = await call(native.watchEventsBlocking(this.name, from, this.opts.blockingTimeout, (text) => this._deliver(text)));
    if (this._closing) watch.close();
    else this._watch = watch;
  }

  /** Resolves once the connection is up and, when running, the stream is being followed. */
  async waitUntilReady() {
    await this._engine;
    if (this._started) await this._started;
  }

  _deliver(text) {
    let entries;
    try {
      entries = JSON.parse(text);
    } catch (err) {
      this._error(err);
      return;
    }
    const catchAll = this.listenerCount('event') > 0;
    for (const [id, fields] of entries) {
      const { event, ...rest } = fields;
      const perJob = rest.jobId !== undefined && this.listenerCount(`${event}:${rest.jobId}`) > 0;
      if (!catchAll && !perJob && this.listenerCount(event) === 0) continue;
      const args = parseArgs(event, rest);
      if (event === 'drained') {
        this.emit(event, id);
      } else {
        this.emit(event, args, id);
        if (perJob) this.emit(`${event}:${args.jobId}`, args, id);
      }
      if (catchAll) this.emit('event', event, args, id);
    }
  }

  _error(err) {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** BullMQ's `disconnect()`: stops at once, as close() (it has no other connection). */
  disconnect() {
    return this.close();
  }

  /** Stops following the stream and releases the connection. Emits `closed`. */
  close() {
    if (!this._closing) {
      this._closing = (async () => {
        if (this._started) await this._started.catch(() => {});
        if (this._watch) this._watch.close();
        this._watch = null;
        if (this._release) this._release();
        this.closed = true;
        if (this._onClosed) this._onClosed();
        this.emit('closed');
        this.emit('close'); // the name the project's earlier class used
      })();
    }
    return this._closing;
  }
}

module.exports = { QueueEvents };
