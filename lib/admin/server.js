'use strict';
// createAdminServer: the HTTP admin service (fastify) over a coordinator. Order of a
// request: authentication (401), the client's rate limit (429), the token's scope for the
// method (403), schema validation (400), the client's stored permissions for the queue
// (403), the route. Every call but the probes and the dashboard's own reads is audited when
// the coordinator has a securityManager.

const Fastify = require('fastify');
const Ajv = require('ajv');
const { ValidationError } = require('../errors');
const { SCOPE_READ, SCOPE_WRITE, checkAuthOptions, createVerifier, bearerToken } = require('./auth');
const { AdminHttpError, unauthenticated, forbidden, toHttp } = require('./http-errors');
const { registerRoutes } = require('./routes');
const { Boards, BASE, COOKIE, isBoardPath, readOnlyTwin, cookieOptions } = require('./board');

/** Where the board's principal travels from our hooks to its visibility guard: the request's
 * headers object is the one thing Bull Board hands to the guard. */
const PRINCIPAL = Symbol('jobQueueAdminPrincipal');

const READ_METHODS = new Set(['GET', 'HEAD']);

/** `GET /ui/login?token=<jwt>[&next=/ui/...]`: `next` stays under /ui (no open redirect). */
const LOGIN_QUERY = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 16384 },
    next: { type: 'string', pattern: '^/ui(/[^/\\\\][^\\\\]*)?/?$', maxLength: 2048 },
  },
};

/** Methods the coordinator must have for the routes. */
const NEEDED = ['ping', 'exportPrometheusMetrics', 'refreshQueues', 'getAllQueues', 'getQueue', 'getQueueStatus', 'checkQueueHealth', 'scaleWorkers', 'getFailedJobs', 'requeueFailedJob', 'pauseQueue', 'resumeQueue'];

function checkOptions(coordinator, options) {
  if (coordinator === null || typeof coordinator !== 'object' || NEEDED.some((m) => typeof coordinator[m] !== 'function')) {
    throw new ValidationError('coordinator', 'must be a JobQueueCoordinator');
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new ValidationError('options', 'must be an object');
  const { host = '127.0.0.1', port = 3000, ui = true, readyTimeoutMs = 2000, trustProxy = false, cookieSecure, bodyLimit = 1048576 } = options;
  if (typeof host !== 'string' || host === '') throw new ValidationError('host', 'must be a non-empty string');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError('port', 'must be an integer from 0 to 65535');
  if (typeof ui !== 'boolean') throw new ValidationError('ui', 'must be a boolean');
  if (!Number.isInteger(readyTimeoutMs) || readyTimeoutMs < 1) throw new ValidationError('readyTimeoutMs', 'must be a positive integer');
  if (cookieSecure !== undefined && typeof cookieSecure !== 'boolean') throw new ValidationError('cookieSecure', 'must be a boolean');
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1) throw new ValidationError('bodyLimit', 'must be a positive integer');
  return { host, port, ui, readyTimeoutMs, trustProxy, cookieSecure, bodyLimit, auth: checkAuthOptions(options.auth) };
}

/** Access control of the coordinator (`coordinator.accessControl`), or scopes alone without
 * one. Stored permissions narrow what the token's scopes allow, queue by queue. */
function accessOf(coordinator) {
  const ask = async (method, principal, queue) => {
    const ac = coordinator.accessControl;
    if (typeof ac?.[method] !== 'function') return true;
    return (await ac[method](principal.clientId, queue)) === true;
  };
  return {
    canView: (principal, queue) => ask('canViewQueue', principal, queue),
    canManage: (principal, queue) => ask('canManageQueue', principal, queue),
    async visible(principal, names) {
      const out = [];
      for (const name of names) if (await ask('canViewQueue', principal, name)) out.push(name);
      return out;
    },
  };
}

/** Every violation, no coercion of JSON bodies ("5" is not an integer); query strings and
 * path parameters are text, so there numbers are read from it. */
function validators() {
  const body = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, removeAdditional: false });
  const text = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, removeAdditional: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema);
}

/**
 * Starts the admin service for `coordinator` and resolves once it listens, to
 * `{ url, host, port, close() }`. Options: `host` (127.0.0.1), `port` (3000; 0 picks a free
 * one), `auth: { jwtSecret | publicKey | jwksUrl, issuer?, audience?, algorithms?,
 * clockTolerance? }` (required), `ui` (Bull Board at /ui, default true), `readyTimeoutMs`
 * (2000), `trustProxy`, `cookieSecure`, `bodyLimit`.
 */
async function createAdminServer(coordinator, options = {}) {
  const opts = checkOptions(coordinator, options);
  const verify = await createVerifier(opts.auth);
  const access = accessOf(coordinator);
  const logger = coordinator.logger ?? console;
  let closing = false;

  // the coordinator connects now; a Redis that is not there yet only makes /ready say so
  Promise.resolve()
    .then(() => coordinator.initialize?.())
    .catch((err) => logger.warn('admin: the coordinator could not connect yet', { error: err.message }));

  const app = Fastify({ logger: false, trustProxy: opts.trustProxy, bodyLimit: opts.bodyLimit, exposeHeadRoutes: true });
  app.setValidatorCompiler(validators());
  app.decorateRequest('principal', null);
  await app.register(require('@fastify/cookie'));

  // an empty JSON body (curl -X POST -H 'Content-Type: application/json') is no body
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    if (text === '') done(null, undefined);
    else jsonParser(request, text, done);
  });

  const boards = opts.ui
    ? new Boards(coordinator, {
        principalOf: (req) => req.headers?.[PRINCIPAL],
        canView: (principal, name) => access.canView(principal, name).catch(() => false),
      })
    : null;

  /** The client's rate limit (securityManager.checkClientRateLimit), when there is one. */
  const checkRateLimit = async (principal) => {
    const security = coordinator.securityManager;
    if (typeof security?.checkClientRateLimit !== 'function') return;
    const verdict = await security.checkClientRateLimit(principal.clientId);
    if (verdict && verdict.allowed === false) {
      const retryAfterMs = Math.max(0, Number(verdict.retryAfterMs) || 0);
      throw new AdminHttpError(429, 'ERR_RATE_LIMITED', `client ${principal.clientId} is over its rate limit`, { retryAfterMs });
    }
  };

  /** Server-side failures are logged (an error for a 500, a warning when a dependency is
   * unavailable); refusals of the client's request are only answered. */
  const logFailure = (request, statusCode, err) => {
    const fields = { method: request.method, url: request.url.split('?')[0], error: err.message };
    if (statusCode === 500) logger.error('admin: request failed', fields);
    else if (statusCode === 503) logger.warn('admin: request failed', fields);
  };

  /** A hook whose refusals are answered here, whatever error handler the route's plugin set
   * (Bull Board sets its own). */
  const answered = (hook) => async (request, reply) => {
    try {
      return await hook(request, reply);
    } catch (err) {
      const { statusCode, headers, body } = toHttp(err);
      logFailure(request, statusCode, err);
      request.errorCode = body.code;
      return reply.code(statusCode).headers(headers).send(body);
    }
  };

  /** Authentication, rate limit and scope, before the body is read. */
  app.addHook('onRequest', answered(async (request, reply) => {
    request.startedAt = Date.now();
    const path = request.url.split('?')[0];
    const board = boards !== null && isBoardPath(path);
    if (request.routeOptions.config?.open) return;
    // the cookie counts only on the board's paths (the browser sends it nowhere else either)
    const token = bearerToken(request.headers.authorization) ?? (board ? request.cookies[COOKIE] : undefined);
    if (token === undefined) {
      throw unauthenticated(
        board ? `sign in first: open ${BASE}/login?token=<JWT>, or send Authorization: Bearer <JWT>` : 'missing bearer token (Authorization: Bearer <JWT>)',
        'missing',
      );
    }
    const principal = await verify(token);
    request.principal = principal;
    await checkRateLimit(principal);
    const scope = READ_METHODS.has(request.method) ? SCOPE_READ : SCOPE_WRITE;
    if (!principal.scopes.has(scope)) {
      throw forbidden(`the token of ${principal.clientId} lacks the scope ${scope} (${READ_METHODS.has(request.method) ? 'every GET' : 'every change'} needs it)`);
    }
    if (board) {
      request.headers[PRINCIPAL] = principal;
      if (!principal.scopes.has(SCOPE_WRITE)) {
        const twin = readOnlyTwin(request.url);
        if (twin !== undefined) return reply.redirect(twin, 302);
      }
      await boards.refresh();
    }
    return undefined;
  }));

  /** The client's stored permissions for the queue the route acts on. */
  app.addHook('preHandler', answered(async (request) => {
    const principal = request.principal;
    if (principal === null) return;
    const need = request.routeOptions.config?.queue;
    const boardQueue = request.params?.queueName;
    const path = request.url.split('?')[0];
    if (need !== undefined) {
      const name = request.params.name;
      const ok = need === 'view' ? await access.canView(principal, name) : await access.canManage(principal, name);
      if (!ok) throw forbidden(`client ${principal.clientId} may not ${need} queue ${name}`);
    } else if (boards !== null && isBoardPath(path) && !READ_METHODS.has(request.method)) {
      // the board's changes: its queue, or every queue on the board for pause/resume all
      const names = typeof boardQueue === 'string' ? [boardQueue] : boards.queueNames();
      for (const name of names) {
        if (!(await access.canManage(principal, name))) throw forbidden(`client ${principal.clientId} may not manage queue ${name}`);
      }
    }
    return undefined;
  }));

  /** The audit entry of the call, written before the answer leaves. */
  app.addHook('onSend', async (request, reply, payload) => {
    const security = coordinator.securityManager;
    if (typeof security?.auditJobActivity !== 'function') return payload;
    const config = request.routeOptions.config ?? {};
    if (config.open && !config.audit) return payload;
    const path = request.url.split('?')[0];
    const board = boards !== null && isBoardPath(path) && config.action === undefined;
    const status = reply.statusCode;
    // the dashboard's own reads (it polls every few seconds) are left out unless refused
    if (board && READ_METHODS.has(request.method) && status < 400) return payload;
    const action = config.action ?? (board ? 'admin.ui.change' : 'admin.unknown');
    const actor = request.principal?.clientId ?? null;
    const outcome = status < 400 ? 'success' : status === 401 || status === 403 || status === 429 ? 'denied' : 'error';
    const target = {};
    const queue = request.params?.name ?? request.params?.queueName;
    if (typeof queue === 'string') target.queue = queue;
    const jobId = request.params?.id ?? request.params?.jobId;
    if (typeof jobId === 'string') target.id = jobId;
    const metadata = {
      actor,
      clientId: actor,
      outcome,
      statusCode: status,
      method: request.method,
      route: request.routeOptions.url ?? null,
      path,
      ip: request.ip,
      durationMs: Date.now() - (request.startedAt ?? Date.now()),
    };
    if (request.errorCode !== undefined) metadata.code = request.errorCode;
    if (config.action === 'admin.scale' && request.body) metadata.targetWorkers = request.body.targetWorkers;
    try {
      await security.auditJobActivity(target, action, metadata);
    } catch (err) {
      logger.warn('admin: the audit entry could not be written', { error: err.message, action });
    }
    return payload;
  });

  app.setErrorHandler((err, request, reply) => {
    const { statusCode, headers, body } = toHttp(err);
    logFailure(request, statusCode, err);
    request.errorCode = body.code;
    return reply.code(statusCode).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    request.errorCode = 'ERR_NOT_FOUND';
    reply.code(404).send({ statusCode: 404, error: 'Not Found', code: 'ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  registerRoutes(app, { coordinator, access, readyTimeoutMs: opts.readyTimeoutMs, isClosing: () => closing });

  if (boards !== null) {
    app.get(`${BASE}/login`, { config: { open: true, audit: true, action: 'admin.ui.login' }, schema: { querystring: LOGIN_QUERY } }, async (request, reply) => {
      const principal = await verify(request.query.token);
      request.principal = principal;
      await checkRateLimit(principal);
      if (!principal.scopes.has(SCOPE_READ)) throw forbidden(`the token of ${principal.clientId} lacks the scope ${SCOPE_READ} the dashboard needs`);
      // `next`: a board page to land on (only under /ui, so the sign-in cannot redirect elsewhere)
      const page = request.query.next ?? `${BASE}/`;
      const target = principal.scopes.has(SCOPE_WRITE) ? page : readOnlyTwin(page) ?? page;
      reply.setCookie(COOKIE, request.query.token, cookieOptions(request, { secure: opts.cookieSecure, expiresAt: principal.expiresAt }));
      // a page of ours that moves on to the board: the board's request is then same-site, so
      // the SameSite=Strict cookie goes with it even when the sign-in link came from elsewhere
      return reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .type('text/html; charset=utf-8')
        .send(signedInPage(principal.clientId, target));
    });
    app.get(`${BASE}/logout`, { config: { open: true, audit: true, action: 'admin.ui.logout' } }, async (request, reply) => {
      reply.clearCookie(COOKIE, { path: BASE });
      return reply.header('cache-control', 'no-store').send({ signedOut: true });
    });
    boards.register(app);
  }

  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    host: address.address,
    port: address.port,
    /** Stops accepting requests (/ready fails at once) and closes the server; the coordinator
     * stays open (shut it down yourself). */
    async close() {
      closing = true;
      await app.close();
    },
  };
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signedInPage(clientId, target) {
  const to = escapeHtml(target);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${to}"><title>Signed in</title></head>
<body><p>Signed in as ${escapeHtml(clientId)}. <a href="${to}">Open the dashboard</a>.</p></body></html>
`;
}

module.exports = { createAdminServer };
