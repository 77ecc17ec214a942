'use strict';
// Helpers of the admin service's tests: key setups (HS256 secret, RS256 and ES256 public
// keys, a JWKS served by a local HTTP server), tokens, and a server over a fresh coordinator.

const http = require('node:http');
const { randomBytes, generateKeyPairSync } = require('node:crypto');
const { setupCoordinators } = require('./helpers');
const { createAdminServer } = require('../lib/admin');

/** jose (an ES module) for signing test tokens. */
const josePromise = import('jose');

/** Serves `{ keys }` at /jwks.json on 127.0.0.1 until the test ends; resolves to its URL. */
async function serveJwks(t, keys) {
  const server = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}/jwks.json`;
}

const pem = (key) => key.export({ type: 'spki', format: 'pem' });

/**
 * The key setups every route is tested with. `make(t)` resolves to `{ auth, sign(claims,
 * { forged }) }`: `auth` for createAdminServer; `sign` a token with the setup's key, or, with
 * `forged`, with another key of the same kind (a wrong signature).
 */
const SETUPS = [
  {
    name: 'HS256 shared secret',
    async make() {
      const secret = randomBytes(32).toString('hex');
      const other = randomBytes(32).toString('hex');
      return { auth: { jwtSecret: secret }, sign: (claims, o) => signed(claims, { alg: 'HS256' }, new TextEncoder().encode(o?.forged ? other : secret)) };
    },
  },
  {
    name: 'RS256 public key',
    async make() {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { auth: { publicKey: pem(pair.publicKey) }, sign: (claims, o) => signed(claims, { alg: 'RS256' }, (o?.forged ? other : pair).privateKey) };
    },
  },
  {
    name: 'ES256 public key',
    async make() {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { auth: { publicKey: pem(pair.publicKey) }, sign: (claims, o) => signed(claims, { alg: 'ES256' }, (o?.forged ? other : pair).privateKey) };
    },
  },
  {
    name: 'JWKS URL (ES256 and RS256 keys)',
    async make(t) {
      const { exportJWK } = await josePromise;
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const keys = [
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      ];
      const jwksUrl = await serveJwks(t, keys);
      return {
        auth: { jwksUrl },
        // the forged token names the real key's kid but is signed by another key
        sign: (claims, o) => signed(claims, { alg: 'ES256', kid: 'ec-1' }, (o?.forged ? other : ec).privateKey),
        signRsa: (claims) => signed(claims, { alg: 'RS256', kid: 'rsa-1' }, rsa.privateKey),
      };
    },
  },
];

/**
 * A signed JWT. `claims`: `sub` (default 'ops'), `scope`, `exp` (seconds from now, default
 * 300; `null` leaves it out), `nbf` (seconds from now), anything else as given.
 */
async function signed(claims, header, key) {
  const { SignJWT } = await josePromise;
  const { sub = 'ops', exp = 300, nbf, ...rest } = claims;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(rest).setProtectedHeader(header).setIssuedAt(now - 1);
  if (sub !== null) jwt.setSubject(sub);
  if (exp !== null) jwt.setExpirationTime(now + exp);
  if (nbf !== undefined) jwt.setNotBefore(now + nbf);
  return jwt.sign(key);
}

/**
 * A coordinator on a fresh prefix and an admin server over it (port 0), both closed when the
 * test ends. `options` go to createAdminServer (auth included).
 */
async function startAdmin(t, options, coordinatorConfig) {
  const env = setupCoordinators(t, 'jqt-admin', coordinatorConfig);
  const admin = await createAdminServer(env.c, { port: 0, ...options });
  env.onClose(() => admin.close());
  return { ...env, admin, call: (method, path, o) => call(admin, method, path, o) };
}

/**
 * One HTTP request to the server: `token` (a bearer token), `cookie`, `body` (JSON unless a
 * string), `headers`. Resolves to `{ status, headers, text, json }` (json when it parses).
 */
async function call(admin, method, path, { token, cookie, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (cookie !== undefined) h.cookie = cookie;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${admin.url}${path}`, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * A stand-in for the security helpers' interface (coordinator.securityManager): records
 * audit entries in memory, answers getAuditLog from them, and limits clients as `limits`
 * says (`{ clientId: retryAfterMs }` refuses that client).
 */
function securityStub(limits = {}) {
  const entries = [];
  const rateChecks = [];
  return {
    entries,
    rateChecks,
    filters: [],
    async auditJobActivity(target, action, metadata) {
      entries.push({ queue: target.queue, id: target.id, action, actor: metadata.actor, metadata, timestamp: Date.now() });
    },
    async getAuditLog(filter) {
      this.filters.push(filter);
      return entries.filter((e) => (filter.actor === undefined || e.actor === filter.actor) && (filter.action === undefined || e.action === filter.action) && (filter.queue === undefined || e.queue === filter.queue)).slice(0, filter.limit);
    },
    async checkClientRateLimit(clientId) {
      rateChecks.push(clientId);
      return clientId in limits ? { allowed: false, retryAfterMs: limits[clientId] } : { allowed: true, retryAfterMs: 0 };
    },
  };
}

module.exports = { SETUPS, signed, startAdmin, call, securityStub, serveJwks, josePromise };
