'use strict';
// TLS: a job goes through a redis-server that only speaks TLS (rediss://). The first server uses a
// self-signed certificate made here with openssl, so the client skips verification with
// `#insecure`; without it the certificate is refused, which shows verification is on. The
// second server (mutual TLS, on a port of 6410-6419) has certificates signed by a CA made here:
// clients trust it with `tls.ca` and present `tls.cert` / `tls.key`.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const tls = require('node:tls');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { JobQueueCoordinator, ConnectionError, ValidationError } = require('..');
const { waitFor, uniquePrefix, freePort, hasCommand } = require('./helpers');

function tlsPings(port) {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    s.setTimeout(500, () => s.destroy() && resolve(false));
    s.once('error', () => resolve(false));
    s.once('secureConnect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

const skip = !(hasCommand('redis-server', ['--version']) && hasCommand('openssl', ['version'])) && 'needs redis-server and openssl';

test('a worker processes a job over TLS (rediss://), and an unverified certificate is refused by default', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jq-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const port = await freePort();
  const server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no',
    '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const c = new JobQueueCoordinator({ redis: { url: `rediss://127.0.0.1:${port}/#insecure`, keyPrefix: uniquePrefix('tls') } });
  try {
    await waitFor(() => tlsPings(port), { timeoutMs: 10000, message: 'the TLS redis-server' });

    const verified = new JobQueueCoordinator({ redis: { url: `rediss://127.0.0.1:${port}` } });
    await assert.rejects(verified.initialize(), ConnectionError, 'a self-signed certificate is not trusted');
    const plain = new JobQueueCoordinator({ redis: { url: `redis://127.0.0.1:${port}` } });
    await assert.rejects(plain.initialize(), ConnectionError, 'plain TCP to a TLS port fails');

    const done = new Promise((resolve) => {
      c.registerWorker('q', async (job) => ({ echoed: job.data.msg }), { concurrency: 1 })
        .then((w) => w.on('completed', (id, result) => resolve(result)));
    });
    await c.enqueueJob('q', { msg: 'over tls' }, { attempts: 1 });
    assert.deepStrictEqual(await done, { echoed: 'over tls' });
  } finally {
    await c.shutdown({ timeoutMs: 2000 });
    server.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A free port of 6410-6419 (the range this suite's TLS and ACL servers use). */
async function portInRange(from = 6410, to = 6419) {
  for (let port = from; port <= to; port++) {
    const free = await new Promise((resolve) => {
      const srv = require('node:net').createServer().once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and a
 * second CA that signed nothing of these; PEM files in `dir`. */
function makeCertificates(dir) {
  const f = (name) => path.join(dir, name);
  const run = (args) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  for (const ca of ['ca', 'other-ca']) {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${ca}.key`), '-out', f(`${ca}.pem`), '-days', '1', '-subj', `/CN=${ca}`]);
  }
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'job-queue-client'],
  ]) {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${cn}`]);
    run(['x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '1', '-extfile', f(`${who}.ext`)]);
  }
  const read = (name) => fs.readFileSync(f(name), 'utf8');
  return { ca: read('ca.pem'), otherCa: read('other-ca.pem'), cert: read('client.pem'), key: read('client.key'), file: f };
}

test('mutual TLS: a custom CA verifies the server, a client certificate is required, and a job goes through', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jq-mtls-'));
  const certs = makeCertificates(dir);
  const port = await portInRange();
  const server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', certs.file('server.pem'), '--tls-key-file', certs.file('server.key'),
    '--tls-ca-cert-file', certs.file('ca.pem'), '--tls-auth-clients', 'yes',
    '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const coordinators = [];
  const make = (tlsOptions, extra = {}) => {
    const c = new JobQueueCoordinator({
      redis: { host: '127.0.0.1', port, tls: tlsOptions, keyPrefix: uniquePrefix('mtls'), maxRetriesPerRequest: 0 },
      monitoring: { metricsCollection: { enabled: false }, healthChecks: { enabled: false } },
      ...extra,
    });
    coordinators.push(c);
    return c;
  };
  t.after(async () => {
    for (const c of coordinators) await c.shutdown({ timeoutMs: 1000 }).catch(() => {});
    server.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(() => pingsWithCert(port, certs), { timeoutMs: 10000, message: 'the mutual-TLS redis-server' });

  // refused: no client certificate; the system's roots (no CA given); a CA that did not sign it
  await assert.rejects(make({ ca: certs.ca }).initialize(), ConnectionError, 'no client certificate');
  await assert.rejects(make({ cert: certs.cert, key: certs.key }).initialize(), ConnectionError, 'the system roots do not know our CA');
  await assert.rejects(make({ ca: certs.otherCa, cert: certs.cert, key: certs.key }).initialize(), ConnectionError, 'another CA');
  // bad material is a ValidationError before anything connects
  await assert.rejects(make({ ca: 'not a certificate' }).initialize(), (err) => err instanceof ValidationError && err.field === 'redis.tls.ca');
  await assert.rejects(make({ ca: certs.ca, cert: certs.cert }).initialize(), (err) => err instanceof ValidationError && err.field === 'redis.tls');
  await assert.rejects(make({ ca: 42 }).initialize(), (err) => err instanceof ValidationError && err.field === 'redis.tls.ca');

  // the CA (as a Buffer, as fs.readFileSync gives it) and the client certificate: a job goes through
  const c = make({ ca: fs.readFileSync(certs.file('ca.pem')), cert: certs.cert, key: certs.key });
  const w = await c.registerWorker('q', async (job) => ({ echoed: job.data.msg }));
  const done = new Promise((resolve) => w.on('completed', (_job, result) => resolve(result)));
  await c.enqueueJob('q', { msg: 'mutual tls' }, { attempts: 1 });
  assert.deepStrictEqual(await done, { echoed: 'mutual tls' });

  // rejectUnauthorized: false skips verifying the server (the client certificate is still sent)
  assert.ok((await make({ rejectUnauthorized: false, cert: certs.cert, key: certs.key }).ping()) >= 0);
  // BullMQ's Queue with an ioredis-style `connection.tls`
  const { Queue } = require('..');
  const q = new Queue('bq', { connection: { host: '127.0.0.1', port, tls: { ca: certs.ca, cert: certs.cert, key: certs.key } }, prefix: uniquePrefix('mtls') });
  try {
    const job = await q.add('x', { a: 1 });
    assert.strictEqual((await q.getJob(job.id)).data.a, 1);
  } finally {
    await q.close();
  }
  // and from the environment: REDIS_TLS_*_FILE
  const { resolveConfig } = require('../lib/config');
  const fromEnv = resolveConfig({}, { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port), REDIS_TLS_CA_FILE: certs.file('ca.pem'), REDIS_TLS_CERT_FILE: certs.file('client.pem'), REDIS_TLS_KEY_FILE: certs.file('client.key') });
  assert.deepStrictEqual(fromEnv.redis.tls, { ca: certs.ca, cert: certs.cert, key: certs.key });
  const envCoordinator = make(fromEnv.redis.tls);
  assert.ok((await envCoordinator.ping()) >= 0);
});

/** Whether the mutual-TLS server answers PING to a client with the certificate. */
function pingsWithCert(port, certs) {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, cert: certs.cert, key: certs.key });
    s.setTimeout(500, () => s.destroy() && resolve(false));
    s.once('error', () => resolve(false));
    s.once('secureConnect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}
