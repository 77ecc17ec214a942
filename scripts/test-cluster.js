#!/usr/bin/env node
'use strict';
// `npm run test:cluster`: the JS suites that run on a Redis Cluster, run on one. Starts a
// cluster of six redis-servers on loopback (three masters, three replicas;
// scripts/redis-topology.js), picks one hash tag per master, and runs the test files with
//   JQ_TEST_CLUSTER=host:port,...           the nodes
//   JQ_TEST_CLUSTER_TAGS=tag@host:port,...  a tag per master
// which __test__/helpers.js turns into a cluster REDIS_URL (redis+cluster://), prefixes
// carrying the file's tag, and RAW_REDIS_URL (that tag's master) for the tests' own clients.
// The servers are stopped by pid when the run ends or this script is signalled.
//
//   node scripts/test-cluster.js                 the suites of CLUSTER_SUITES
//   node scripts/test-cluster.js __test__/x.js   those files
//   node scripts/test-cluster.js --short         the short subset `npm test` runs
//   node scripts/test-cluster.js --hold          start the cluster, print the env, wait
//
// docs/cluster-testing.md says which suites run here and why the others do not.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { startCluster } = require('./redis-topology');

/** Every JS suite that runs on a cluster, unchanged or with helpers' cluster settings. */
const CLUSTER_SUITES = [
  'access-control',
  'admin-bin',
  'bullmq-compat',
  'bullmq-last-gaps',
  'bullmq-wording',
  'crash',
  'dead-letter-handler',
  'design-surface',
  'enqueue',
  'errors',
  'event-loop',
  'failed-jobs',
  'failure-log',
  'failures',
  'health-checker',
  'interop',
  'job',
  'managers',
  'manual-processing',
  'metrics-collector',
  'observability',
  'operations',
  'ordering',
  'performance-optimizer',
  'prefetch',
  'queue',
  'queue-add-batching',
  'queue-events',
  'queue-extras',
  'queue-job-ops',
  'queue-status',
  'retry-handler',
  'scheduling',
  'security',
  'shutdown',
  'wire',
  'worker',
  'worker-api',
  'worker-close',
];

/** The subset `npm test` runs on a cluster (a few minutes at most). */
const SHORT_SUITES = ['queue', 'worker', 'interop', 'crash', 'managers', 'security'];

const file = (name) => path.join(__dirname, '..', '__test__', `${name}.test.js`);

async function main() {
  const args = process.argv.slice(2);
  const hold = args.includes('--hold');
  const short = args.includes('--short');
  const files = args.filter((a) => !a.startsWith('--'));
  const cluster = await startCluster({ masters: 3, replicas: 1, aof: false });
  let stopping = null;
  const stop = () => (stopping ??= cluster.stop());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (child) child.kill(sig);
      else stop().then(() => process.exit(130));
    });
  }
  let child = null;
  try {
    const tags = await cluster.tagsPerMaster('jqt');
    const masters = await cluster.masters();
    const env = {
      JQ_TEST_CLUSTER: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','),
      JQ_TEST_CLUSTER_TAGS: tags.map((t, i) => `${t}@127.0.0.1:${masters[i]}`).join(','),
    };
    if (hold) {
      for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${v}`);
      console.error(`test-cluster: holding (pid ${process.pid}); stop with kill ${process.pid}`);
      await new Promise((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
      return 0;
    }
    const list = files.length > 0 ? files : (short ? SHORT_SUITES : CLUSTER_SUITES).map(file);
    console.error(`test-cluster: ${list.length} files on a cluster of ${cluster.nodes.length} servers (masters ${masters.join(', ')})`);
    child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...list], { stdio: 'inherit', env: { ...process.env, ...env } });
    return await new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    await stop();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

module.exports = { CLUSTER_SUITES, SHORT_SUITES };
