'use strict';
// The admin service's options from the environment (what `job-queue serve` uses): PORT
// (3000), ADMIN_HOST (127.0.0.1), and the JWT settings ADMIN_JWT_SECRET, ADMIN_JWT_PUBLIC_KEY
// (PEM text, or the path of a PEM file), ADMIN_JWKS_URL, ADMIN_JWT_ISSUER, ADMIN_JWT_AUDIENCE.

const { readFileSync } = require('node:fs');
const { ValidationError } = require('../errors');

/** A PEM from the environment: the text itself (newlines may be written as \n), or a path. */
function pemFrom(value) {
  if (value.includes('-----BEGIN')) return value.includes('\n') ? value : value.replace(/\\n/g, '\n');
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ValidationError('ADMIN_JWT_PUBLIC_KEY', `is neither a PEM nor a readable file (${err.code ?? err.message})`);
  }
}

/** `{ host, port, auth }` for createAdminServer from `env` (default process.env). */
function adminOptionsFromEnv(env = process.env) {
  const set = (name) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  let port = 3000;
  if (set('PORT') !== undefined) {
    port = Number(env.PORT);
    if (!/^\d+$/.test(env.PORT) || port > 65535) throw new ValidationError('PORT', 'must be a port number (0-65535)');
  }
  const auth = {};
  if (set('ADMIN_JWT_SECRET') !== undefined) auth.jwtSecret = env.ADMIN_JWT_SECRET;
  if (set('ADMIN_JWT_PUBLIC_KEY') !== undefined) auth.publicKey = pemFrom(env.ADMIN_JWT_PUBLIC_KEY);
  if (set('ADMIN_JWKS_URL') !== undefined) auth.jwksUrl = env.ADMIN_JWKS_URL;
  if (set('ADMIN_JWT_ISSUER') !== undefined) auth.issuer = env.ADMIN_JWT_ISSUER;
  if (set('ADMIN_JWT_AUDIENCE') !== undefined) auth.audience = env.ADMIN_JWT_AUDIENCE;
  return { host: set('ADMIN_HOST') ?? '127.0.0.1', port, auth };
}

module.exports = { adminOptionsFromEnv };
