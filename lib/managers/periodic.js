'use strict';
// A task run every `interval` ms by the coordinator's monitoring settings (metrics
// collection, health checks, optimization, auto-scaling): one run at a time, its timer
// unref'd (it never keeps the process alive), failures logged, and stop() waiting for a run
// in progress so shutdown leaves nothing behind.

const { ValidationError } = require('../errors');

/** A boolean or number from the environment (the design's variables), or undefined. */
function fromEnv(name, kind) {
  const v = name ? process.env[name] : undefined;
  if (v === undefined || v === '') return undefined;
  if (kind === 'boolean') return v === 'true' || v === '1';
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * `{enabled, interval}` of a setting, checked: the interval in ms, or null when disabled.
 * `fallback` names the interval field and its default; `env` the environment variables
 * (`{enabled, interval}`) that stand in for fields the config leaves out.
 */
function periodOf(setting, field, fallback, env = {}) {
  if (setting === null || (setting !== undefined && typeof setting !== 'object')) {
    throw new ValidationError(field, 'must be an object {enabled, interval}');
  }
  const s = setting ?? {};
  const enabled = s.enabled ?? fromEnv(env.enabled, 'boolean');
  if (enabled !== undefined && typeof enabled !== 'boolean') throw new ValidationError(`${field}.enabled`, 'must be a boolean');
  const intervalField = Object.keys(fallback)[0];
  const interval = s[intervalField] ?? fromEnv(env.interval) ?? fallback[intervalField];
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
    throw new ValidationError(`${field}.${intervalField}`, 'must be a positive number of ms');
  }
  return enabled ? interval : null;
}

class Periodic {
  /** `run()` returns a promise; `onError(err)` hears its failures. */
  constructor(interval, run, onError) {
    this._interval = interval;
    this._run = run;
    this._onError = onError;
    this._timer = null;
    this._running = null;
    this._stopped = false;
  }

  start() {
    this._stopped = false;
    this._schedule();
    return this;
  }

  _schedule() {
    if (this._stopped) return;
    this._timer = setTimeout(() => this._tick(), this._interval);
    this._timer.unref();
  }

  _tick() {
    this._timer = null;
    this._running = Promise.resolve()
      .then(() => this._run())
      .catch((err) => this._onError(err))
      .finally(() => {
        this._running = null;
        this._schedule();
      });
  }

  /** Stops the timer; resolves when a run in progress has ended. */
  async stop() {
    this._stopped = true;
    clearTimeout(this._timer);
    this._timer = null;
    if (this._running) await this._running;
  }
}

module.exports = { Periodic, periodOf, fromEnv };
