'use strict';
// The design's JobSecurityManager (§10.1): what a job may carry (format, size, the design's
// content rules, per-queue JSON Schemas), sanitising prototype-pollution keys, checks before
// every attempt (age, the worker's permission, per-client rate limits), per-client rate
// limiting counted in Redis (so it holds across every process), and the audit log (a capped
// stream under the key prefix).

const os = require('node:os');
const { ValidationError, SecurityError, RateLimitError } = require('../errors');
const { call, checkQueueName, serialiseData } = require('../input');
const { checkClientId } = require('./access-control');

/** Keys that can reach an object's prototype; dropped from job data at any depth. */
const POLLUTION_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** A cheap test on the JSON text before walking the data: none of those keys can be in it. */
const POLLUTION_TEXT = /"(?:__proto__|constructor|prototype)"/;

/**
 * The design's content rules (`containsMaliciousContent`), on the job data's JSON text, when
 * `security.enableJobValidation` is on. The event-handler rule is the design's `on\w+\s*=`
 * held to a word start, so words such as "condition=" do not match.
 */
const CONTENT_RULES = [
  { rule: 'script_tag', pattern: /<script\b[^<]*(?:(?!<\/script>)<[^<]*)*<\/script>/i, message: 'a <script> element' },
  { rule: 'javascript_url', pattern: /javascript:/i, message: 'a javascript: URL' },
  { rule: 'event_handler', pattern: /\bon[a-z]+\s*=/i, message: 'an inline event handler (on...=)' },
  { rule: 'eval', pattern: /\beval\s*\(/i, message: 'an eval( call' },
  { rule: 'prototype_pollution', pattern: /__proto__|constructor\.prototype/i, message: 'a prototype-pollution path' },
];
/** Any rule at all: one test for the common case of clean data. */
const ANY_CONTENT_RULE = new RegExp(CONTENT_RULES.map((r) => r.pattern.source).join('|'), 'i');

/** Most audit entries read by one getAuditLog call. */
const MAX_AUDIT_READ = 1000;
/** Where audit entries come from. */
const ORIGIN = `${os.hostname()}:${process.pid}`;

/** A copy of `value` without prototype-pollution keys, at any depth. */
function sanitize(value) {
  if (Array.isArray(value)) return value.map(sanitize);
  if (value === null || typeof value !== 'object') return value;
  if (typeof value.toJSON === 'function') return value; // a Date and the like: serialised as it says
  const out = {};
  for (const key of Object.keys(value)) {
    if (POLLUTION_KEYS.has(key)) continue;
    // defineProperty, so a key named like an Object.prototype accessor stays a plain field
    Object.defineProperty(out, key, { value: sanitize(value[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** `since` / `until` as ms: a Date or ms since the epoch. */
function timeArg(value, field) {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new ValidationError(field, 'must be a Date or ms since the epoch');
}

/** An optional text filter. */
function textArg(value, field) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, 'must be a non-empty string');
  return value;
}

/** The client id a job carries: its `clientId` option, else `data._metadata.clientId`. */
function clientIdOf(options, data) {
  const fromOptions = options && typeof options === 'object' ? options.clientId : undefined;
  if (fromOptions !== undefined) return checkClientId(fromOptions, 'options.clientId');
  const meta = data && typeof data === 'object' ? data._metadata : undefined;
  const fromData = meta && typeof meta === 'object' ? meta.clientId : undefined;
  return fromData === undefined ? undefined : checkClientId(fromData, 'data._metadata.clientId');
}

class JobSecurityManagerImpl {
  /** `access` is the access control (worker permissions); `queues` the queue manager. */
  constructor(ctx, { access }) {
    this._ctx = ctx;
    this._access = access;
    this._schemas = new Map(); // queue -> { all: validate fn | null, byName: Map<jobName, validate fn> }
    this._ajv = null; // made when the first schema is compiled
    this._pending = null; // audit entries of this tick, written together
    this._workers = new Map(); // worker id -> the client id it runs as
  }

  get _config() {
    return this._ctx.config.security;
  }

  // ---------------------------------------------------------------------------------------
  // Job data

  /**
   * Rejects data a job may not carry, listing every violation: not a JSON-serialisable object
   * or over `security.maxJobDataSize` (ValidationError, as enqueue does); content the design's
   * rules call malicious when `security.enableJobValidation` is on (SecurityError with
   * `violations`); against the queue's JSON Schema (`createQueue({ schema, jobSchemas })`,
   * ValidationError with `violations`). Writes nothing.
   */
  async validateJobData(queueName, jobName, data) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    // format and size: the engine's rules for what an add stores (the one home of that check)
    await call(Promise.resolve().then(() => native.checkJobData(serialiseData(data))));
    this.prepareData(queueName, jobName, data);
  }

  /** A copy of `data` without `__proto__`, `constructor` or `prototype` keys, at any depth
   * (anything else is returned as given). Enqueue applies it to every job's data. */
  sanitizeJobInput(data) {
    return sanitize(data);
  }

  /**
   * What enqueue stores for a job's data: the sanitised data and its JSON text, after the
   * content rules and the queue's schemas (throws as validateJobData does, size aside: the
   * engine checks that). Synchronous, so an add stays on its fast path.
   */
  prepareData(queueName, jobName, data) {
    let json = serialiseData(data);
    if (POLLUTION_TEXT.test(json)) {
      data = sanitize(data);
      json = JSON.stringify(data);
    }
    if (this._config.enableJobValidation && ANY_CONTENT_RULE.test(json)) {
      const violations = CONTENT_RULES.filter((r) => r.pattern.test(json)).map((r) => ({ rule: r.rule, message: `data contains ${r.message}` }));
      throw new SecurityError(`job data refused: ${violations.map((v) => v.message).join('; ')}`, violations);
    }
    const schemas = this._schemas.get(queueName);
    if (schemas) this._checkSchemas(schemas, queueName, jobName, data);
    return { data, json };
  }

  _checkSchemas(schemas, queueName, jobName, data) {
    const violations = [];
    for (const validate of [schemas.all, schemas.byName.get(jobName)]) {
      if (validate && !validate(data)) {
        for (const e of validate.errors) {
          violations.push({ rule: 'schema', path: e.instancePath || '/', keyword: e.keyword, message: `${e.instancePath || 'data'} ${e.message}` });
        }
      }
    }
    if (violations.length > 0) {
      const err = new ValidationError('data', `does not match the schema of queue ${queueName}: ${violations.map((v) => v.message).join('; ')}`);
      err.violations = violations;
      throw err;
    }
  }

  /**
   * Compiles a queue's JSON Schemas (`schema` for every job, `jobSchemas[name]` for jobs of
   * that name) so enqueue checks them. A schema that does not compile is a ValidationError on
   * `schema` (createQueue calls this before writing anything). Returns a function that puts
   * them in force.
   */
  compileSchemas(queueName, { schema, jobSchemas } = {}) {
    if (schema === undefined && jobSchemas === undefined) return () => this._schemas.delete(queueName);
    const compile = (s, field) => {
      if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new ValidationError(field, 'must be a JSON Schema object');
      try {
        return this._validator().compile(s);
      } catch (err) {
        throw new ValidationError(field, `is not a valid JSON Schema: ${err.message}`);
      }
    };
    const all = schema === undefined ? null : compile(schema, 'schema');
    const byName = new Map();
    if (jobSchemas !== undefined) {
      if (jobSchemas === null || typeof jobSchemas !== 'object' || Array.isArray(jobSchemas)) {
        throw new ValidationError('jobSchemas', 'must be an object of JSON Schemas by job name');
      }
      for (const [name, s] of Object.entries(jobSchemas)) byName.set(name, compile(s, `jobSchemas.${name}`));
    }
    return () => this._schemas.set(queueName, { all, byName });
  }

  /** Forgets a queue's schemas (destroyQueue). */
  forgetSchemas(queueName) {
    this._schemas.delete(queueName);
  }

  _validator() {
    if (!this._ajv) {
      const Ajv = require('ajv');
      const addFormats = require('ajv-formats');
      // allErrors: the error lists every violation; strict off: schemas written for other
      // validators (with annotations ajv does not know) still compile
      this._ajv = new Ajv({ allErrors: true, strict: false });
      addFormats(this._ajv);
    }
    return this._ajv;
  }

  // ---------------------------------------------------------------------------------------
  // Before every attempt

  /** Records that worker `workerId` runs as `clientId` (its permission is checked before
   * every attempt). */
  setWorkerIdentity(workerId, clientId) {
    if (clientId === undefined) this._workers.delete(workerId);
    else this._workers.set(workerId, clientId);
  }

  /**
   * The design's checks before an attempt: a job older than `security.maxJobAge` (counted
   * from when it was first due: its timestamp plus its delay; 0 turns the check off) is a
   * SecurityError, and the job fails at once without retries; a worker running as a client
   * (`registerWorker(..., { clientId })`, or `context.clientId`) without `process` permission
   * on the queue is an AuthorizationError; a job of a client over its rate limit (counted per
   * attempt, apart from enqueues) is a RateLimitError with `retryAfterMs`.
   */
  async validateJobExecution(job, context = {}) {
    const pending = this.executionCheck(job, context);
    if (pending) await pending;
  }

  /** validateJobExecution, synchronous when nothing needs Redis (the usual case): throws, or
   * returns null, or a promise. */
  executionCheck(job, context = {}) {
    const maxAge = this._config.maxJobAge;
    const queueName = job.queueName ?? context.queueName;
    if (maxAge > 0) {
      const due = (job.timestamp ?? 0) + (Number(job.opts?.delay) || 0);
      const age = Date.now() - due;
      if (age > maxAge) {
        throw new SecurityError(`job ${job.id} is too old to process: due ${age} ms ago, over security.maxJobAge (${maxAge} ms)`, [
          { rule: 'max_job_age', ageMs: age, maxJobAge: maxAge },
        ]);
      }
    }
    const identity = context.clientId ?? this._workers.get(context.workerId);
    const client = this._config.rateLimiting.enabled ? this._jobClient(job) : undefined;
    if (identity === undefined && client === undefined) return null;
    return (async () => {
      if (identity !== undefined) {
        await this._access.authorize(identity, 'process', queueName, { jobType: job.name, data: job.data, jobId: job.id });
      }
      if (client !== undefined) {
        const { allowed, retryAfterMs } = await this.checkClientRateLimit(client, { scope: 'run' });
        if (!allowed) {
          throw new RateLimitError(`client ${client} is over its rate limit of ${this._config.rateLimiting.maxJobsPerMinute} jobs per window`, {
            retryAfterMs,
            clientId: client,
            limit: this._config.rateLimiting.maxJobsPerMinute,
          });
        }
      }
    })();
  }

  _jobClient(job) {
    try {
      return clientIdOf(job.opts, job.data);
    } catch {
      return undefined; // a job added elsewhere with a malformed client id is nobody's
    }
  }

  // ---------------------------------------------------------------------------------------
  // Rate limiting

  /**
   * Counts one job (or `cost`) of `clientId` in its current window (`security.rateLimiting`:
   * `maxJobsPerMinute` per `windowMs`, default 60 s), counted in Redis so every process shares
   * it: `{ allowed, retryAfterMs, remaining }`. Over the limit nothing is counted and
   * `retryAfterMs` is the time until the window ends. `scope` keeps separate windows
   * (`enqueue`, the default; `run`, per attempt; anything else a caller wants to limit).
   * With rate limiting off every call is allowed and nothing is counted.
   */
  async checkClientRateLimit(clientId, { cost = 1, scope = 'enqueue' } = {}) {
    const id = checkClientId(clientId);
    if (!Number.isInteger(cost) || cost < 1 || cost > 0xffffffff) throw new ValidationError('cost', 'must be a positive integer');
    if (typeof scope !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(scope)) throw new ValidationError('scope', 'must be 1 to 64 letters, digits, _ . or -');
    const r = this._config.rateLimiting;
    if (!r.enabled) return { allowed: true, retryAfterMs: 0, remaining: r.maxJobsPerMinute };
    const native = await this._ctx.engine();
    const w = await call(native.clientRateLimit(scope, [id], [cost], r.maxJobsPerMinute, r.windowMs));
    return {
      allowed: w.allowed,
      retryAfterMs: w.allowed ? 0 : w.windowLeftMs,
      remaining: w.allowed ? r.maxJobsPerMinute - w.count : 0,
    };
  }

  /**
   * Counts the jobs of an add against their clients' windows (`costs`: client id → jobs),
   * all or nothing; over the limit a RateLimitError (with `retryAfterMs`), and nothing is
   * counted or written. Resolves at once when rate limiting is off or no job has a client.
   */
  async admitEnqueue(costs) {
    const r = this._config.rateLimiting;
    if (!r.enabled || costs.size === 0) return;
    const clients = [...costs.keys()];
    for (const [client, n] of costs) {
      if (n > r.maxJobsPerMinute) {
        throw new RateLimitError(`${n} jobs of client ${client} in one add exceed its limit of ${r.maxJobsPerMinute} per window`, {
          retryAfterMs: null,
          clientId: client,
          limit: r.maxJobsPerMinute,
        });
      }
    }
    const native = await this._ctx.engine();
    const w = await call(native.clientRateLimit('enqueue', clients, [...costs.values()], r.maxJobsPerMinute, r.windowMs));
    if (!w.allowed) {
      const client = clients[w.refused ?? 0];
      throw new RateLimitError(`client ${client} is over its rate limit of ${r.maxJobsPerMinute} jobs per ${r.windowMs} ms; retry in ${w.windowLeftMs} ms`, {
        retryAfterMs: w.windowLeftMs,
        clientId: client,
        limit: r.maxJobsPerMinute,
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Audit log

  /**
   * Appends an entry to the audit log: `auditJobActivity(job | { queue, id }, action,
   * metadata?)`. The actor is the client the call runs for (a coordinator's `forClient`
   * view), else `metadata.actor`, else `system`; `metadata.outcome` (default `success`) says
   * how it went. Resolves once written (nothing is written while
   * `security.enableAuditLogging` is off).
   */
  async auditJobActivity(job, action, metadata) {
    if (!job || typeof job !== 'object') throw new ValidationError('job', 'must be a Job or { queue, id }');
    const queue = job.queueName ?? job.queue;
    const id = job.id;
    if (queue !== undefined && queue !== null) checkQueueName(queue);
    if (typeof action !== 'string' || action === '' || action.length > 256) throw new ValidationError('action', 'must be a non-empty string');
    if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
      throw new ValidationError('metadata', 'must be an object');
    }
    const { actor, outcome, ...rest } = metadata ?? {};
    await this.record({
      action,
      queue: queue ?? undefined,
      jobId: id === undefined || id === null ? undefined : String(id),
      actor: actor === undefined ? undefined : checkClientId(actor, 'metadata.actor'),
      outcome: outcome === undefined ? 'success' : textArg(outcome, 'metadata.outcome'),
      metadata: Object.keys(rest).length > 0 ? rest : undefined,
    }, { strict: true });
  }

  /**
   * Writes an audit entry `{ action, queue?, jobId?, actor?, outcome, metadata? }`; entries of
   * one tick go to Redis in one script call. Resolves once written; a failed write is logged,
   * and rejects only with `strict` (the caller asked for the entry itself).
   */
  record(entry, { strict = false } = {}) {
    if (!this._config.enableAuditLogging) return Promise.resolve();
    let metadata;
    try {
      metadata = entry.metadata === undefined ? undefined : JSON.stringify(entry.metadata);
    } catch (err) {
      const e = new ValidationError('metadata', `is not JSON-serialisable (${err.message})`);
      return strict ? Promise.reject(e) : Promise.resolve();
    }
    const row = {
      timestamp: Date.now(),
      actor: entry.actor ?? this._ctx.actor(),
      action: entry.action,
      queue: entry.queue,
      jobId: entry.jobId,
      outcome: entry.outcome ?? 'success',
      origin: ORIGIN,
      metadata,
    };
    if (!this._pending) {
      const batch = { rows: [], done: null };
      batch.done = new Promise((resolve) => process.nextTick(resolve)).then(() => {
        if (this._pending === batch) this._pending = null;
        return this._write(batch.rows);
      });
      this._pending = batch;
    }
    this._pending.rows.push(row);
    const written = this._pending.done;
    if (strict) return written;
    return written.catch((err) => this._ctx.logger.error('audit log write failed', { error: err.message, action: entry.action }));
  }

  async _write(rows) {
    const native = await this._ctx.engine();
    await call(native.audit(JSON.stringify(rows), this._config.auditLogMaxLength));
  }

  /**
   * Audit entries, newest first: `{ id, timestamp: Date, actor, action, queue, jobId,
   * outcome, origin, metadata }`, filtered by `since` / `until` (Dates or ms), `actor`,
   * `action` and `queue`; at most `limit` (default 100, up to 1000).
   */
  async getAuditLog({ since, until, actor, action, queue, limit = 100 } = {}) {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_READ) throw new ValidationError('limit', `must be an integer from 1 to ${MAX_AUDIT_READ}`);
    const filter = {
      sinceMs: timeArg(since, 'since'),
      untilMs: timeArg(until, 'until'),
      actor: textArg(actor, 'actor'),
      action: textArg(action, 'action'),
      queue: textArg(queue, 'queue'),
      limit,
    };
    const native = await this._ctx.engine();
    const records = await call(native.auditLog(filter));
    return records.map((r) => ({
      id: r.id,
      timestamp: new Date(r.timestamp),
      actor: r.actor,
      action: r.action,
      queue: r.queue ?? undefined,
      jobId: r.jobId ?? undefined,
      outcome: r.outcome,
      origin: r.origin ?? undefined,
      metadata: r.metadata ?? undefined,
    }));
  }
}

module.exports = { JobSecurityManagerImpl, clientIdOf, sanitize };
