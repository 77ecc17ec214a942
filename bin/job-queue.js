#!/usr/bin/env node
'use strict';
// `job-queue serve`: the admin service over a coordinator configured from the environment
// (REDIS_URL / REDIS_HOST..., see the README's Configuration; PORT, ADMIN_HOST and the
// ADMIN_JWT_* variables for the service). `--setup <module>` (or JOB_QUEUE_SETUP) loads a
// module first whose exported function gets the coordinator, to register workers in this
// process (the ones POST /queues/:name/scale scales). SIGTERM / SIGINT: stop accepting
// requests, shut the coordinator down (running jobs get SHUTDOWN_TIMEOUT_MS, default 30 s),
// exit.

const { resolve } = require('node:path');

const USAGE = `usage: job-queue serve [--port <n>] [--host <address>] [--setup <module>]

Starts the admin service (health, readiness, metrics, queue operations, Bull Board at /ui).
Environment: PORT (3000), ADMIN_HOST (127.0.0.1), ADMIN_JWT_SECRET | ADMIN_JWT_PUBLIC_KEY |
ADMIN_JWKS_URL (one is required), ADMIN_JWT_ISSUER, ADMIN_JWT_AUDIENCE, JOB_QUEUE_SETUP,
SHUTDOWN_TIMEOUT_MS, and the coordinator's variables (REDIS_URL, REDIS_HOST, ...).
`;

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const flags = {};
  for (let i = 0; i < rest.length; i++) {
    const m = /^--(port|host|setup)(?:=(.*))?$/.exec(rest[i]);
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

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    process.stderr.write(`job-queue: ${err.message}\n`);
    process.exit(1);
  },
);
