'use strict';
// How the admin service answers errors: always JSON `{ statusCode, error, code, message }`
// (plus `field`, `reason`, `retryAfterMs` where they apply). The package's error classes keep
// their `code`; the HTTP status follows from it.

const { STATUS_CODES } = require('node:http');

/** An HTTP answer raised inside the admin service (authentication, permission, rate limit). */
class AdminHttpError extends Error {
  constructor(statusCode, code, message, extra = {}) {
    super(message);
    this.name = 'AdminHttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.extra = extra;
  }
}

const unauthenticated = (message, reason) => new AdminHttpError(401, 'ERR_UNAUTHENTICATED', message, { reason });
const forbidden = (message) => new AdminHttpError(403, 'ERR_FORBIDDEN', message);

/** Status of the package's error codes (lib/errors.js, and the security helpers'). */
const STATUS_BY_CODE = {
  ERR_VALIDATION: 400,
  ERR_FORBIDDEN: 403,
  ERR_QUEUE_NOT_FOUND: 404,
  ERR_JOB_NOT_FOUND: 404,
  ERR_WORKER_NOT_FOUND: 404,
  ERR_QUEUE_EXISTS: 409,
  ERR_JOB_NOT_IN_STATE: 409,
  ERR_CONNECTION: 503,
  ERR_CLOSED: 503,
};

/** The first field a schema validation error names (`targetWorkers`, `limit`...). */
function schemaField(validation) {
  const first = validation?.[0];
  if (!first) return undefined;
  if (first.params?.missingProperty) return first.params.missingProperty;
  if (first.params?.additionalProperty) return first.params.additionalProperty;
  const path = (first.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
  return path || undefined;
}

/** `{ statusCode, body, headers }` for any error thrown by a route or hook. */
function toHttp(err) {
  let statusCode;
  let code;
  let message = err?.message ?? String(err);
  const body = {};
  const headers = {};
  if (err instanceof AdminHttpError) {
    statusCode = err.statusCode;
    code = err.code;
    Object.assign(body, err.extra);
  } else if (err?.validation) {
    // fastify's schema validation (body, querystring, params): every violation in the message
    statusCode = 400;
    code = 'ERR_VALIDATION';
    body.field = schemaField(err.validation);
    message = `invalid ${err.validationContext ?? 'request'}: ${err.validation
      .map((v) => `${v.instancePath || v.params?.missingProperty || ''} ${v.message}`.trim())
      .join('; ')}`;
  } else if (err?.code && STATUS_BY_CODE[err.code]) {
    statusCode = STATUS_BY_CODE[err.code];
    code = err.code;
    if (err.field !== undefined) body.field = err.field;
  } else if (Number.isInteger(err?.statusCode) && err.statusCode >= 400 && err.statusCode < 500) {
    // fastify's own client errors (bad JSON, unsupported media type, body too large...)
    statusCode = err.statusCode;
    code = err.code ?? 'ERR_BAD_REQUEST';
  } else {
    statusCode = 500;
    code = 'ERR_INTERNAL';
  }
  if (body.reason === undefined) delete body.reason;
  if (body.field === undefined) delete body.field;
  if (statusCode === 401) headers['www-authenticate'] = 'Bearer realm="job-queue-admin"';
  if (statusCode === 429 && body.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(body.retryAfterMs / 1000)));
  }
  return { statusCode, headers, body: { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message, ...body } };
}

module.exports = { AdminHttpError, unauthenticated, forbidden, toHttp };
