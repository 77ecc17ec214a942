'use strict';
// JWT bearer authentication for the admin service, verified by `jose`: HS256 with a shared
// secret, or an asymmetric algorithm (RS256, ES256...) with a public key or a JWKS URL. A
// verified token becomes a principal: its `sub` (the client id access control knows) and
// its scopes (`queues:read` for every GET, `queues:write` for every POST).

const { createPublicKey, KeyObject } = require('node:crypto');
const { ValidationError } = require('../errors');
const { AdminHttpError, unauthenticated } = require('./http-errors');

const SCOPE_READ = 'queues:read';
const SCOPE_WRITE = 'queues:write';

/** A shared secret shorter than the hash output is refused (RFC 7518 §3.2). */
const MIN_SECRET_BYTES = 32;

/** What a JWKS may sign with: asymmetric algorithms only, so no key can be used as an HMAC
 * secret (algorithm confusion). */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const BY_CURVE = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** jose is an ES module: loaded with import() when the first server is made, so neither the
 * core package nor this file's require() loads it. */
let jose;
async function loadJose() {
  jose ??= await import('jose');
  return jose;
}

/** The algorithms a public key verifies: RS256 for RSA, ES256/384/512 by curve, EdDSA. */
function algorithmsOf(key) {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256'];
    case 'rsa-pss':
      return ['PS256'];
    case 'ec': {
      const alg = BY_CURVE[key.asymmetricKeyDetails?.namedCurve];
      if (alg) return [alg];
      break;
    }
    case 'ed25519':
    case 'ed448':
      return ['EdDSA'];
    default:
  }
  throw new ValidationError('auth.publicKey', `unsupported key type ${key.asymmetricKeyType}`);
}

function publicKeyObject(value) {
  if (value instanceof KeyObject) {
    if (value.type !== 'public') throw new ValidationError('auth.publicKey', 'must be a public key');
    return value;
  }
  if (typeof value === 'string' || (value !== null && typeof value === 'object' && !Array.isArray(value))) {
    try {
      // PEM (SPKI, PKCS#1, or a certificate) or a JWK object
      return typeof value === 'string' ? createPublicKey(value) : createPublicKey({ key: value, format: 'jwk' });
    } catch (err) {
      throw new ValidationError('auth.publicKey', `is not a public key (${err.message})`);
    }
  }
  throw new ValidationError('auth.publicKey', 'must be a PEM string, a JWK object or a KeyObject');
}

function stringOrList(value, field) {
  if (value === undefined) return undefined;
  const ok = (typeof value === 'string' && value.length > 0) || (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0));
  if (!ok) throw new ValidationError(field, 'must be a non-empty string or a list of them');
  return value;
}

/**
 * Checks the `auth` option (`{ jwtSecret | publicKey | jwksUrl, issuer, audience,
 * algorithms, clockTolerance }`) and returns its normalised form, without loading jose.
 */
function checkAuthOptions(auth) {
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) {
    throw new ValidationError('auth', 'is required: { jwtSecret } or { publicKey } or { jwksUrl }, with optional issuer and audience');
  }
  const sources = ['jwtSecret', 'publicKey', 'jwksUrl'].filter((k) => auth[k] !== undefined && auth[k] !== null && auth[k] !== '');
  if (sources.length !== 1) {
    throw new ValidationError('auth', `needs exactly one of jwtSecret, publicKey, jwksUrl (got ${sources.length === 0 ? 'none' : sources.join(', ')})`);
  }
  const out = {
    issuer: stringOrList(auth.issuer, 'auth.issuer'),
    audience: stringOrList(auth.audience, 'auth.audience'),
    clockTolerance: auth.clockTolerance ?? 0,
  };
  if (typeof out.clockTolerance !== 'number' || !Number.isFinite(out.clockTolerance) || out.clockTolerance < 0) {
    throw new ValidationError('auth.clockTolerance', 'must be a non-negative number of seconds');
  }
  let allowed;
  if (auth.jwtSecret !== undefined && auth.jwtSecret !== null && auth.jwtSecret !== '') {
    const secret = auth.jwtSecret;
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw new ValidationError('auth.jwtSecret', 'must be a string');
    const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new ValidationError('auth.jwtSecret', `must be at least ${MIN_SECRET_BYTES} bytes (HS256 needs a key as long as its hash)`);
    }
    out.kind = 'secret';
    out.key = bytes;
    out.algorithms = ['HS256'];
    allowed = ['HS256', 'HS384', 'HS512'];
  } else if (auth.publicKey !== undefined && auth.publicKey !== null && auth.publicKey !== '') {
    out.kind = 'publicKey';
    out.key = publicKeyObject(auth.publicKey);
    out.algorithms = algorithmsOf(out.key);
    allowed = ASYMMETRIC;
  } else {
    let url;
    try {
      url = new URL(auth.jwksUrl);
    } catch {
      throw new ValidationError('auth.jwksUrl', 'must be an http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError('auth.jwksUrl', 'must be an http(s) URL');
    out.kind = 'jwks';
    out.jwksUrl = url;
    out.algorithms = ASYMMETRIC;
    allowed = ASYMMETRIC;
  }
  if (auth.algorithms !== undefined) {
    const list = auth.algorithms;
    if (!Array.isArray(list) || list.length === 0 || !list.every((a) => allowed.includes(a))) {
      throw new ValidationError('auth.algorithms', `must be a non-empty list of ${allowed.join(', ')}`);
    }
    out.algorithms = [...list];
  }
  return out;
}

/** jose's errors when the JWKS itself could not be had (network, HTTP status, bad JSON);
 * `undefined` is fetch's own network error. */
const JWKS_UNAVAILABLE = new Set([undefined, 'ERR_JOSE_GENERIC', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/** Why jose refused a token, as the `reason` of the 401 answer. */
function reasonOf(err) {
  switch (err?.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm_not_allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return err.reason === 'check_failed' && err.claim === 'nbf' ? 'not_yet_valid' : `bad_claim_${err.claim}`;
    default:
      return 'malformed';
  }
}

/** The scopes a token grants: its `scope` claim (space-separated, RFC 8693) or `scp`. */
function scopesOf(payload) {
  const raw = payload.scope ?? payload.scp;
  const list = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.filter((s) => typeof s === 'string') : [];
  return new Set(list.filter(Boolean));
}

/**
 * `verify(token)` resolves to the principal `{ clientId, scopes, claims, expiresAt }` of a
 * valid token, and rejects with a 401 AdminHttpError (with `reason`) otherwise; a JWKS that
 * cannot be fetched is a 503.
 */
async function createVerifier(options) {
  const { jwtVerify, createRemoteJWKSet } = await loadJose();
  const key = options.kind === 'jwks' ? createRemoteJWKSet(options.jwksUrl) : options.key;
  const verifyOptions = {
    algorithms: options.algorithms,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockTolerance,
    requiredClaims: ['sub', 'exp'],
  };
  return async function verify(token) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, verifyOptions));
    } catch (err) {
      if (options.kind === 'jwks' && JWKS_UNAVAILABLE.has(err?.code)) {
        throw new AdminHttpError(503, 'ERR_AUTH_UNAVAILABLE', `the signing keys could not be read from the JWKS URL (${err.message})`);
      }
      const reason = reasonOf(err);
      throw unauthenticated(`invalid token: ${reason.replace(/_/g, ' ')}`, reason);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthenticated('invalid token: sub must be a non-empty string', 'bad_claim_sub');
    return { clientId: payload.sub, scopes: scopesOf(payload), claims: payload, expiresAt: payload.exp * 1000 };
  };
}

/** The bearer token of an `Authorization` header, or undefined. */
function bearerToken(header) {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return m ? m[1] : undefined;
}

module.exports = { SCOPE_READ, SCOPE_WRITE, checkAuthOptions, createVerifier, bearerToken, loadJose };
