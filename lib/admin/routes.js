'use strict';
// The admin service's JSON routes (the design's §12.3–12.4): probes, metrics, queue status and
// health, scaling, failed jobs, pause/resume, the audit log. Each route's `config` says what
// it needs: `open` (no token), `action` (its name in the audit log) and whether it acts on a
// queue (`queue: 'view' | 'manage'`, checked against access control once the token is known).

const { QueueNotFoundError, ConnectionError } = require('../errors');
const { checkQueueName } = require('../input');
const { AdminHttpError } = require('./http-errors');

const queueParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 1024 } },
};

const jobParams = {
  type: 'object',
  required: ['name', 'id'],
  properties: { name: queueParams.properties.name, id: { type: 'string', minLength: 1, maxLength: 1024 } },
};

/** An instant in a query string: ISO 8601 text or ms since the epoch. */
const instant = { type: 'string', minLength: 1, maxLength: 64 };

function parseInstant(value, field) {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    const err = new Error(`querystring/${field} must be an ISO 8601 date or ms since the epoch`);
    err.validation = [{ instancePath: `/${field}`, message: 'must be an ISO 8601 date or ms since the epoch' }];
    err.validationContext = 'querystring';
    throw err;
  }
  return new Date(ms);
}

/** Resolves within `ms` or rejects with a ConnectionError. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionError(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Registers the routes on `app`. `coordinator` does the work; `access.visible(principal,
 * names)` filters queue names by access control; `readyTimeoutMs` bounds the readiness
 * check; `isClosing()` makes /ready fail while the server shuts down.
 */
function registerRoutes(app, { coordinator, access, readyTimeoutMs, isClosing }) {
  /** Throws QueueNotFoundError for a queue with no trace in Redis (nothing is written). */
  async function requireQueue(name) {
    checkQueueName(name);
    if (coordinator.getAllQueues().has(name)) return;
    if (!(await coordinator.refreshQueues()).has(name)) throw new QueueNotFoundError(name);
  }

  app.get('/health', { config: { open: true } }, async () => ({ status: 'ok', uptime: process.uptime() }));

  app.get('/ready', { config: { open: true } }, async (_request, reply) => {
    if (isClosing()) {
      return reply.code(503).send({ status: 'not_ready', code: 'ERR_CLOSING', message: 'the admin service is shutting down' });
    }
    try {
      const latencyMs = await within(coordinator.ping(), readyTimeoutMs, 'Redis');
      return { status: 'ready', redis: { connected: true, latencyMs } };
    } catch (err) {
      return reply.code(503).send({ status: 'not_ready', code: err.code ?? 'ERR_CONNECTION', message: err.message, redis: { connected: false } });
    }
  });

  app.get('/metrics', { config: { action: 'admin.metrics' } }, async (_request, reply) => {
    const text = await coordinator.exportPrometheusMetrics();
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  app.get('/queues', { config: { action: 'admin.queues.list' } }, async (request) => {
    const names = [...(await coordinator.refreshQueues()).keys()];
    const visible = await access.visible(request.principal, names);
    const queues = [];
    for (const name of visible) queues.push(await coordinator.getQueueStatus(name));
    return { queues };
  });

  app.get('/queues/:name', { schema: { params: queueParams }, config: { action: 'admin.queue.status', queue: 'view' } }, async (request) =>
    coordinator.getQueueStatus(request.params.name),
  );

  app.get('/queues/:name/health', { schema: { params: queueParams }, config: { action: 'admin.queue.health', queue: 'view' } }, async (request) => {
    await requireQueue(request.params.name);
    return coordinator.checkQueueHealth(request.params.name);
  });

  app.post(
    '/queues/:name/scale',
    {
      schema: {
        params: queueParams,
        body: {
          type: 'object',
          required: ['targetWorkers'],
          additionalProperties: false,
          properties: { targetWorkers: { type: 'integer', minimum: 0, maximum: 1000 } },
        },
      },
      config: { action: 'admin.scale', queue: 'manage' },
    },
    async (request) => {
      await requireQueue(request.params.name);
      return coordinator.scaleWorkers(request.params.name, request.body.targetWorkers);
    },
  );

  app.get(
    '/queues/:name/failed',
    {
      schema: {
        params: queueParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            start: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          },
        },
      },
      config: { action: 'admin.failed.list', queue: 'view' },
    },
    async (request) => {
      const { name } = request.params;
      const { start, limit } = request.query;
      await requireQueue(name);
      const [jobs, total] = await Promise.all([
        coordinator.getFailedJobs(name, { start, end: start + limit - 1 }),
        coordinator.getQueue(name).getFailedCount(),
      ]);
      return { queueName: name, start, limit, total, jobs };
    },
  );

  app.post(
    '/queues/:name/failed/:id/requeue',
    { schema: { params: jobParams }, config: { action: 'admin.requeue', queue: 'manage' } },
    async (request) => {
      const { name, id } = request.params;
      await requireQueue(name);
      await coordinator.requeueFailedJob(name, id);
      return { queueName: name, jobId: id, requeued: true };
    },
  );

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ]) {
    app.post(`/queues/:name/${verb}`, { schema: { params: queueParams }, config: { action: `admin.${verb}`, queue: 'manage' } }, async (request) => {
      const { name } = request.params;
      await requireQueue(name);
      await (paused ? coordinator.pauseQueue(name) : coordinator.resumeQueue(name));
      return { queueName: name, isPaused: paused };
    });
  }

  app.get(
    '/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: instant,
            until: instant,
            actor: { type: 'string', minLength: 1, maxLength: 256 },
            action: { type: 'string', minLength: 1, maxLength: 256 },
            queue: { type: 'string', minLength: 1, maxLength: 1024 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
      config: { action: 'admin.audit' },
    },
    async (request) => {
      const security = coordinator.securityManager;
      if (typeof security?.getAuditLog !== 'function') {
        throw new AdminHttpError(501, 'ERR_NOT_AVAILABLE', 'this coordinator keeps no audit log (it has no securityManager)');
      }
      const q = request.query;
      const filter = { since: parseInstant(q.since, 'since'), until: parseInstant(q.until, 'until'), actor: q.actor, action: q.action, queue: q.queue, limit: q.limit };
      for (const key of Object.keys(filter)) if (filter[key] === undefined) delete filter[key];
      if (q.queue !== undefined && !(await access.visible(request.principal, [q.queue])).length) {
        throw new AdminHttpError(403, 'ERR_FORBIDDEN', `client ${request.principal.clientId} may not view queue ${q.queue}`);
      }
      const entries = await security.getAuditLog(filter);
      // entries of queues the client may not view are left out
      const queues = [...new Set(entries.map((e) => e.queue).filter((n) => typeof n === 'string'))];
      const visible = new Set(await access.visible(request.principal, queues));
      return { entries: entries.filter((e) => typeof e.queue !== 'string' || visible.has(e.queue)) };
    },
  );
}

module.exports = { registerRoutes };
