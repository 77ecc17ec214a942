'use strict';
// The design's JobAccessControl (§10.2): which client may enqueue which jobs on which queues,
// view them, manage them, or run their jobs. Permissions are stored in Redis under the key
// prefix (`P::acl:<client>`), so every process enforces the same set; grant and revoke
// change them.
//
// A permission is the design's `{ resource, actions, conditions? }`:
// - `resource`: a queue name, `*` (every queue), or a pattern with `*` (`orders-*`);
// - `actions`: `enqueue`, `view`, `manage` (which includes `view`), `process` (run the
//   queue's jobs as a worker), or `*` (all of them);
// - `conditions`: `{ field, operator: equals | in | not_in, value }`, every one of which must
//   hold: `field` is `jobType` (the job's name; also `name`, `jobName` or `type`), `queue`,
//   or `data.<path>` (a field of the job's data, when it is known). A condition on a field
//   the check does not know (a job field when viewing a queue) does not hold.
// A client is allowed an action when one of its permissions matches. A client with no stored
// permission at all is decided by `security.accessControl.defaultPolicy`: `allow` (the
// default: stored permissions only narrow what an outer authentication granted, as the admin
// service's JWT scopes) or `deny`.

const { ValidationError, AuthorizationError } = require('../errors');
const { call, checkQueueName } = require('../input');

/** The actions a permission can grant. */
const ACTIONS = new Set(['enqueue', 'view', 'manage', 'process', '*']);
/** An action and the actions that also grant it. */
const GRANTED_BY = {
  enqueue: ['enqueue', '*'],
  view: ['view', 'manage', '*'],
  manage: ['manage', '*'],
  process: ['process', '*'],
};
const OPERATORS = new Set(['equals', 'in', 'not_in']);
/** Names of the job-type field in conditions. */
const JOB_TYPE_FIELDS = new Set(['jobType', 'name', 'jobName', 'type']);

/** A client id: a non-empty string of at most 256 bytes without a newline. */
function checkClientId(clientId, field = 'clientId') {
  if (typeof clientId !== 'string' || clientId === '' || Buffer.byteLength(clientId) > 256 || clientId.includes('\n')) {
    throw new ValidationError(field, 'must be a non-empty string of at most 256 bytes, without a newline');
  }
  return clientId;
}

function checkResource(resource, field = 'permission.resource') {
  if (typeof resource !== 'string' || resource === '' || Buffer.byteLength(resource) > 256 || resource.includes('\n')) {
    throw new ValidationError(field, 'must be a queue name, * or a pattern with * (at most 256 bytes)');
  }
  return resource;
}

function checkActions(actions, field) {
  if (!Array.isArray(actions) || actions.length === 0) throw new ValidationError(field, 'must be a non-empty array of actions');
  for (const a of actions) {
    if (!ACTIONS.has(a)) throw new ValidationError(field, `unknown action ${JSON.stringify(a)} (known: ${[...ACTIONS].join(', ')})`);
  }
  return [...new Set(actions)];
}

function checkConditions(conditions) {
  if (conditions === undefined || conditions === null) return [];
  if (!Array.isArray(conditions)) throw new ValidationError('permission.conditions', 'must be an array');
  return conditions.map((c, i) => {
    const field = `permission.conditions[${i}]`;
    if (!c || typeof c !== 'object' || Array.isArray(c)) throw new ValidationError(field, 'must be { field, operator, value }');
    if (typeof c.field !== 'string' || c.field === '') throw new ValidationError(`${field}.field`, 'must be a non-empty string');
    if (!OPERATORS.has(c.operator)) throw new ValidationError(`${field}.operator`, 'must be equals, in or not_in');
    if (c.operator !== 'equals' && !Array.isArray(c.value)) throw new ValidationError(`${field}.value`, `must be an array for ${c.operator}`);
    if (c.value === undefined) throw new ValidationError(`${field}.value`, 'must be given');
    return { field: c.field, operator: c.operator, value: c.value };
  });
}

/** Whether a permission's resource covers the queue. */
function resourceMatches(resource, queueName) {
  if (resource === '*' || resource === queueName) return true;
  if (!resource.includes('*') || queueName === undefined) return false;
  const pattern = resource.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(queueName);
}

/** A field's value in what a check knows (`fields`), or `undefined` when it does not. */
function fieldValue(name, fields) {
  if (JOB_TYPE_FIELDS.has(name)) return fields.jobType;
  if (name === 'queue' || name === 'queueName') return fields.queueName;
  if (name.startsWith('data.') && fields.data && typeof fields.data === 'object') {
    let v = fields.data;
    for (const part of name.slice(5).split('.')) {
      if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
      v = v[part];
    }
    return v;
  }
  return undefined;
}

const same = (a, b) => a === b || (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));

function conditionHolds(c, fields) {
  const v = fieldValue(c.field, fields);
  if (v === undefined) return false;
  if (c.operator === 'equals') return same(v, c.value);
  const listed = c.value.some((x) => same(x, v));
  return c.operator === 'in' ? listed : !listed;
}

class JobAccessControlImpl {
  constructor(ctx) {
    this._ctx = ctx;
    this._cache = new Map(); // client -> { at, permissions }
  }

  get _settings() {
    return this._ctx.config.security.accessControl;
  }

  /** Whether the client may add a job of `jobType` (with `data`, for conditions on its
   * fields) to the queue. */
  canEnqueueJob(clientId, queueName, jobType, data) {
    return this._allowed(clientId, 'enqueue', queueName, { jobType, data });
  }

  /** Whether the client may read the queue (status, jobs, metrics, health). */
  canViewQueue(clientId, queueName) {
    return this._allowed(clientId, 'view', queueName, {});
  }

  /** Whether the client may change the queue (pause, retry, requeue, purge, scale...). */
  canManageQueue(clientId, queueName) {
    return this._allowed(clientId, 'manage', queueName, {});
  }

  /** Whether a worker running as the client may run the queue's jobs. */
  canProcessQueue(clientId, queueName) {
    return this._allowed(clientId, 'process', queueName, {});
  }

  /**
   * Resolves when the client may do `action` (enqueue, view, manage, process) on the queue
   * (`job`: `{ jobType, data, jobId }` for conditions and the record); otherwise writes a
   * `denied` entry to the audit log and rejects with AuthorizationError (code ERR_FORBIDDEN).
   */
  async authorize(clientId, action, queueName, job = {}) {
    if (!GRANTED_BY[action]) throw new ValidationError('action', `must be one of ${Object.keys(GRANTED_BY).join(', ')}`);
    if (await this._allowed(clientId, action, queueName, job)) return;
    const what = job.jobType !== undefined ? `${action} ${job.jobType} jobs on` : `${action}`;
    const err = new AuthorizationError(`client ${clientId} may not ${what} queue ${queueName}`, {
      clientId,
      action,
      queueName,
      jobType: job.jobType,
    });
    await this._ctx.security?.record({
      actor: clientId,
      action,
      queue: queueName,
      jobId: job.jobId === undefined ? undefined : String(job.jobId),
      outcome: 'denied',
      metadata: job.jobType !== undefined ? { jobType: job.jobType } : undefined,
    });
    throw err;
  }

  async _allowed(clientId, action, queueName, fields) {
    checkClientId(clientId);
    checkQueueName(queueName);
    const permissions = await this._permissions(clientId);
    if (permissions.length === 0) return this._settings.defaultPolicy === 'allow';
    const known = { ...fields, queueName };
    return permissions.some(
      (p) =>
        resourceMatches(p.resource, queueName) &&
        p.actions.some((a) => GRANTED_BY[action].includes(a)) &&
        p.conditions.every((c) => conditionHolds(c, known)),
    );
  }

  /** The client's permissions, read again after `security.accessControl.cacheMs`. */
  async _permissions(clientId) {
    const ttl = this._settings.cacheMs;
    const hit = this._cache.get(clientId);
    if (hit && Date.now() - hit.at < ttl) return hit.permissions;
    const permissions = await this.getClientPermissions(clientId);
    if (ttl > 0) {
      if (this._cache.size >= 10_000) this._cache.clear();
      this._cache.set(clientId, { at: Date.now(), permissions });
    }
    return permissions;
  }

  /** The client's stored permissions (the design's `Permission[]`), read from Redis now. */
  async getClientPermissions(clientId) {
    checkClientId(clientId);
    const native = await this._ctx.engine();
    return call(native.clientPermissions(clientId));
  }

  /**
   * Grants the client a permission `{ resource, actions, conditions? }`, for every process;
   * actions it holds already on that resource under the same conditions are kept. Resolves
   * to how many grants (action × conditions) were new. Bad input is a ValidationError and
   * writes nothing. Audited as `grant` when something was new.
   */
  async grant(clientId, permission) {
    checkClientId(clientId);
    if (!permission || typeof permission !== 'object') throw new ValidationError('permission', 'must be { resource, actions, conditions? }');
    const resource = checkResource(permission.resource);
    const actions = checkActions(permission.actions, 'permission.actions');
    const conditions = checkConditions(permission.conditions);
    const native = await this._ctx.engine();
    const added = await call(native.grantPermission(clientId, resource, actions, JSON.stringify(conditions)));
    this._cache.delete(clientId);
    if (added > 0) await this._ctx.security?.record({ action: 'grant', metadata: { clientId, resource, actions, conditions } });
    return added;
  }

  /**
   * Takes back the client's grants on `resource` (under any conditions): of `actions`, or
   * every action when none are given. Resolves to how many grants were removed. Audited as
   * `revoke` when something was removed.
   */
  async revoke(clientId, resource, actions) {
    checkClientId(clientId);
    checkResource(resource, 'resource');
    const list = actions === undefined ? [] : checkActions(actions, 'actions');
    const native = await this._ctx.engine();
    const removed = await call(native.revokePermission(clientId, resource, list));
    this._cache.delete(clientId);
    if (removed > 0) await this._ctx.security?.record({ action: 'revoke', metadata: { clientId, resource, actions: list.length > 0 ? list : '*', removed } });
    return removed;
  }
}

module.exports = { JobAccessControlImpl, checkClientId, resourceMatches };
