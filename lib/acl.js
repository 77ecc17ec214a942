'use strict';
// The Redis ACL a user of this package needs: the commands the engine sends (directly and from
// its Lua scripts, which Redis checks against the caller's permissions) and the keys under the
// key prefix. __test__/redis-acl.test.js runs every feature under a user made with it.

/** Every command the engine sends, by group, sorted within each. */
const ACL_COMMANDS = [
  // connecting (SELECT for a db other than 0); workers name their connection as BullMQ does,
  // and queue status counts them (CLIENT SETNAME, CLIENT LIST); a worker notes its named
  // connection's id (CLIENT ID) to see it gone from CLIENT LIST when it closes
  'ping', 'select', 'client|id', 'client|list', 'client|setname',
  // scripts: every state change is one script (EVALSHA, loaded again after a restart); reads
  // that must agree with each other go in a MULTI/EXEC
  'evalsha', 'script|load', 'multi', 'exec',
  // reads and the blocking waits
  'bzpopmin', 'exists', 'get', 'hexists', 'hget', 'hgetall', 'hkeys', 'hlen', 'hmget', 'lindex', 'llen', 'lpos', 'lrange', 'pttl', 'scan',
  'sismember', 'smembers', 'xread', 'xrevrange', 'zcard', 'zcount', 'zrange', 'zrangebyscore', 'zrevrange', 'zrevrangebyscore', 'zscore',
  // writes (from the scripts, and the queue registry and destroyQueue)
  'del', 'hdel', 'hincrby', 'hset', 'hsetnx', 'incr', 'incrby', 'lpush', 'lrem', 'lset', 'ltrim', 'pexpire', 'rpop', 'rpush', 'sadd',
  'set', 'srem', 'unlink', 'xadd', 'xtrim', 'zadd', 'zpopmin', 'zrem', 'zremrangebyrank',
];

/**
 * The `ACL SETUSER` arguments for a user limited to the keys of `prefix` (default `bull`,
 * BullMQ's) and the commands the engine uses: `user on >password ~prefix:* resetchannels
 * -@all +cmd ...`. Pass the user name and password to get the whole line.
 */
function redisAclRule(prefix = 'bull', user = 'job-queue', password = '<password>') {
  const p = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
  return ['ACL', 'SETUSER', user, 'on', `>${password}`, 'resetkeys', `~${p}:*`, 'resetchannels', '-@all', ...ACL_COMMANDS.map((c) => `+${c}`)];
}

module.exports = { ACL_COMMANDS, redisAclRule };
