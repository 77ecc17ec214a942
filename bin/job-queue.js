#!/usr/bin/env node
'use strict';
// `job-queue token --sub <id> [--scope "queues:read queues:write"] [--expires 1h]` prints an
// HS256 token signed with ADMIN_JWT_SECRET (with ADMIN_JWT_ISSUER / ADMIN_JWT_AUDIENCE when
// set), for operators and scripts of a deployment that uses a shared secret.
//
// `job-queue serve`: the admin service over a coordinator configured from the environment
// (REDIS_URL / REDIS_HOST..., see the README's Configuration; PORT, ADMIN_HOST and the
// ADMIN_JWT_* variables for the service). `--setup <module>` (or JOB_QUEUE_SETUP) loads a
// module first whose exported function gets the coordinator, to register workers in this
// process (the ones POST /queues/:name/scale scales). SIGTERM / SIGINT: stop accepting
// requests, shut the coordinator down (running jobs get SHUTDOWN_TIMEOUT_MS, default 30 s),
// exit.

const { resolve } = require('node:path');

const USAGE = `usage: job-queue serve [--port <n>] [--host <address>] [--setup <module>]
       job-queue token --sub <client id> [--scope "queues:read queues:write"] [--expires <1h|30m|3600>]

Starts the admin service (health, readiness, metrics, queue operations, Bull Board at /ui).
Environment: PORT (3000), ADMIN_HOST (127.0.0.1), ADMIN_JWT_SECRET | ADMIN_JWT_PUBLIC_KEY |
ADMIN_JWKS_URL (one is required), ADMIN_JWT_ISSUER, ADMIN_JWT_AUDIENCE, JOB_QUEUE_SETUP,
SHUTDOWN_TIMEOUT_MS, and the coordinator's variables (REDIS_URL, REDIS_HOST, ...).
token prints an HS256 JWT signed with ADMIN_JWT_SECRET (scope default queues:read, expires
default 1h).
`;

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const flags = {};
  for (let i = 0; i < rest.length; i++) {
    const m = /^--(port|host|setup|sub|scope|expires)(?:=(.*))?$/.exec(rest[i]);
    if (!m) throw new Error(`unknown argument ${rest[i]}`);
    const value = m[2] ?? rest[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    flags[m[1]] = value;
  }
  return { command, flags };
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (args.command === '--help' || args.command === '-h' || args.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.command === 'token') return printToken(args.flags);
  if (args.command !== 'serve') {
    process.stderr.write(USAGE);
    return 2;
  }
  const { createAdminServer, adminOptionsFromEnv } = require('../lib/admin');
  const { jobCoordinator } = require('..');
  const env = { ...process.env };
  if (args.flags.port !== undefined) env.PORT = args.flags.port;
  if (args.flags.host !== undefined) env.ADMIN_HOST = args.flags.host;
  const options = adminOptionsFromEnv(env);
  const timeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 30000);

  const setup = args.flags.setup ?? process.env.JOB_QUEUE_SETUP;
  if (setup) {
    const mod = require(resolve(setup));
    const fn = typeof mod === 'function' ? mod : mod?.default ?? mod?.setup;
    if (typeof fn !== 'function') throw new Error(`${setup} exports no function to call with the coordinator`);
    await fn(jobCoordinator);
  }
  const admin = await createAdminServer(jobCoordinator, options);
  jobCoordinator.logger.info('admin service listening', { url: admin.url });

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    jobCoordinator.logger.info('admin service stopping', { signal });
    let code = 0;
    try {
      await admin.close();
      await jobCoordinator.shutdown({ timeoutMs });
    } catch (err) {
      jobCoordinator.logger.error('shutdown failed', { error: err.message });
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return undefined;
}

/** `1h`, `30m`, `45s` or a number of seconds → seconds. */
function seconds(text) {
  const m = /^(\d+)([smhd]?)$/.exec(text);
  if (!m) throw new Error(`--expires ${text}: use a number of seconds or 30m, 1h, 7d`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

async function printToken(flags) {
  const { adminOptionsFromEnv } = require('../lib/admin');
  const { checkAuthOptions, loadJose } = require('../lib/admin/auth');
  if (!flags.sub) throw new Error('token needs --sub <client id>');
  const { auth } = adminOptionsFromEnv(process.env);
  if (auth.jwtSecret === undefined) throw new Error('token signs with ADMIN_JWT_SECRET, which is not set');
  const { key, issuer, audience } = checkAuthOptions(auth);
  const { SignJWT } = await loadJose();
  const jwt = new SignJWT({ scope: flags.scope ?? 'queues:read' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(flags.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds(flags.expires ?? '1h'));
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  process.stdout.write(`${await jwt.sign(key)}\n`);
  return 0;
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    process.stderr.write(`job-queue: ${err.message}\n`);
    process.exit(1);
  },
);
