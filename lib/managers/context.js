'use strict';
// What every manager of the coordinator is given: the engine (connected on first use), the
// resolved configuration, the logger, and the coordinator's event sink. Managers hold their
// own state and reach each other only through the references the coordinator passes them.

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
