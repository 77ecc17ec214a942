'use strict';
// Bull Board at /ui, behind the admin service's authentication. Two boards share the queue
// objects: the full one at /ui and a read-only one at /ui/read-only (Bull Board's
// readOnlyMode: no action buttons, and its API refuses changes). A token without
// `queues:write` is sent to the read-only board. A browser signs in once with
// `GET /ui/login?token=<jwt>`, which sets the token as an HttpOnly, SameSite=Strict cookie
// limited to /ui; the board's own API calls are then authorised by that cookie.

const { createBullBoard } = require('@bull-board/api');
const { FastifyAdapter } = require('@bull-board/fastify');
const { JobQueueBoardAdapter } = require('./board-adapter');

const BASE = '/ui';
const READ_ONLY_BASE = '/ui/read-only';
const COOKIE = 'jq_admin_token';
/** How old the board's list of queues may get before a board request reads it again. */
const REFRESH_AFTER_MS = 5000;

/** Whether a URL path belongs to the board (its pages, assets and API). */
const isBoardPath = (path) => path === BASE || path.startsWith(`${BASE}/`);
const isReadOnlyPath = (path) => path === READ_ONLY_BASE || path.startsWith(`${READ_ONLY_BASE}/`);

/**
 * The boards over `coordinator`'s queues. `principalOf(boardRequest)` gives the principal
 * the admin's authentication attached to a request, and `canView(principal, queue)` says
 * whether it may see a queue (the board hides the others).
 */
class Boards {
  constructor(coordinator, { principalOf, canView, title = 'Job queue' }) {
    this._coordinator = coordinator;
    this._principalOf = principalOf;
    this._canView = canView;
    this._refreshedAt = 0;
    this._refreshing = null;
    this._adapters = new Map(); // queue name -> { queue, full, readOnly }
    const uiConfig = {
      boardTitle: title,
      hideRedisDetails: true,
      miscLinks: [{ text: 'Sign out', url: `${BASE}/logout` }],
    };
    this.full = new FastifyAdapter();
    this.full.setBasePath(BASE);
    this.readOnly = new FastifyAdapter();
    this.readOnly.setBasePath(READ_ONLY_BASE);
    this._fullApi = createBullBoard({ queues: [], serverAdapter: this.full, options: { uiConfig } });
    this._readOnlyApi = createBullBoard({ queues: [], serverAdapter: this.readOnly, options: { uiConfig } });
  }

  /** Registers both boards on the fastify instance. */
  register(app) {
    // the read-only board first: its prefix is the more specific one
    app.register(this.readOnly.registerPlugin(), { prefix: READ_ONLY_BASE });
    app.register(this.full.registerPlugin(), { prefix: BASE });
  }

  _adapter(name, queue, readOnlyMode) {
    const adapter = new JobQueueBoardAdapter(queue, { readOnlyMode });
    adapter.setVisibilityGuard((req) => {
      const principal = this._principalOf(req);
      return principal ? this._canView(principal, name) : false;
    });
    return adapter;
  }

  /** Reads the queues of the prefix again when the list is older than a few seconds. */
  refresh() {
    if (Date.now() - this._refreshedAt < REFRESH_AFTER_MS) return Promise.resolve();
    this._refreshing ??= (async () => {
      try {
        const queues = await this._coordinator.refreshQueues();
        for (const [name, queue] of queues) {
          const known = this._adapters.get(name);
          if (queue && known?.queue !== queue) {
            this._adapters.set(name, { queue, full: this._adapter(name, queue, false), readOnly: this._adapter(name, queue, true) });
          }
        }
        for (const name of [...this._adapters.keys()]) if (!queues.has(name)) this._adapters.delete(name);
        const all = [...this._adapters.values()];
        this._fullApi.replaceQueues(all.map((a) => a.full));
        this._readOnlyApi.replaceQueues(all.map((a) => a.readOnly));
        this._refreshedAt = Date.now();
      } finally {
        this._refreshing = null;
      }
    })();
    return this._refreshing;
  }

  /** Names of the queues on the board. */
  queueNames() {
    return [...this._adapters.keys()];
  }
}

/** The board page a read-only principal is sent to for a page of the full board, if any. */
function readOnlyTwin(url) {
  const [path, query] = url.split('?');
  if (!isBoardPath(path) || isReadOnlyPath(path) || path.startsWith(`${BASE}/api/`) || path.startsWith(`${BASE}/static/`)) return undefined;
  if (path === `${BASE}/login` || path === `${BASE}/logout`) return undefined;
  const rest = path.slice(BASE.length);
  return `${READ_ONLY_BASE}${rest === '' ? '/' : rest}${query === undefined ? '' : `?${query}`}`;
}

/** Options of the sign-in cookie: HttpOnly, SameSite=Strict, only sent to /ui, over HTTPS
 * when the request came that way (or `secure` says so), for the token's remaining life. */
function cookieOptions(request, { secure, expiresAt }) {
  return {
    path: BASE,
    httpOnly: true,
    sameSite: 'strict',
    secure: secure ?? request.protocol === 'https',
    maxAge: Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)),
  };
}

module.exports = { Boards, BASE, READ_ONLY_BASE, COOKIE, isBoardPath, isReadOnlyPath, readOnlyTwin, cookieOptions };
