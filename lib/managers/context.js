'use strict';
// What every manager of the coordinator is given: the engine (connected on first use), the
// resolved configuration, the logger, and the coordinator's event sink. Managers hold their
// own state and reach each other only through the references the coordinator passes them.

const { AsyncLocalStorage } = require('node:async_hooks');

/** The client a call runs for (a coordinator's `forClient` view), for the audit log. */
const actors = new AsyncLocalStorage();

class ManagerContext {
  /**
   * `engine()` resolves to the connected NativeEngine; `emitter` is the coordinator, whose
   * events the managers raise through `emit`.
   */
  constructor({ config, logger, engine, emitter }) {
    this.config = config;
    this.logger = logger;
    this.engine = engine;
    this._emitter = emitter;
    this._handles = new Map(); // queue name -> the queue handle jobs of that queue carry
    this.security = null; // the security manager (the audit log), set by the coordinator
  }

  /** Runs `fn` as `clientId`: the audit entries of what it does name that client. */
  static runAs(clientId, fn) {
    return actors.run(clientId, fn);
  }

  /** Who the current call runs for: the client of a `forClient` view, else `system`. */
  actor() {
    return actors.getStore() ?? 'system';
  }

  /**
   * Runs `run()` and, when it took effect, writes its audit entry (`action` on `target`:
   * `{ queue, jobId }`, with the metadata `describe(result)` returns; `describe` returning
   * null means nothing happened and nothing is written). A call that throws writes nothing:
   * refused input leaves Redis as it was. Resolves or rejects as `run` did, once the entry is
   * written.
   */
  async audited(action, target, run, describe) {
    const result = await run();
    const metadata = describe ? describe(result) : {};
    if (metadata === null) return result;
    await this.security?.record({ action, ...target, outcome: 'success', metadata: Object.keys(metadata).length > 0 ? metadata : undefined });
    return result;
  }

  /**
   * What a Job of the queue holds to act on itself (`job.remove()`, `job.getState()`...):
   * the queue's name, the key prefix and the engine. One per queue name.
   */
  queueHandle(queueName) {
    let handle = this._handles.get(queueName);
    if (!handle) {
      handle = { name: queueName, prefix: this.config.redis.keyPrefix, native: () => this.engine() };
      this._handles.set(queueName, handle);
    }
    return handle;
  }

  /** True when someone listens to the coordinator's `event`. */
  listening(event) {
    return this._emitter.listenerCount(event) > 0;
  }

  /** Emits a coordinator event when someone listens (an unheard event costs nothing). */
  emit(event, payload) {
    if (this._emitter.listenerCount(event) > 0) this._emitter.emit(event, payload);
  }
}

module.exports = { ManagerContext };
