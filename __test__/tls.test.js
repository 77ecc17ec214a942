'use strict';
// TLS: a job goes through a redis-server that only speaks TLS (rediss://). The server uses a
// self-signed certificate made here with openssl, so the client skips verification with
// `#insecure`; without it the certificate is refused, which shows verification is on.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const tls = require('node:tls');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { JobQueueCoordinator, ConnectionError } = require('..');
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
