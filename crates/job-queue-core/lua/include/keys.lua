--[[ keys: the key table and constants every queue script starts from.

  Every queue script receives the same KEYS, in this order (see src/scripts/mod.rs,
  QUEUE_KEYS):
    1 wait  2 active  3 prioritized  4 delayed  5 completed  6 failed  7 meta  8 events
    9 marker  10 pc  11 id  12 stalled  13 stalled-check  14 limiter  15 paused (legacy)
    16 slot-guard (never written: while the queue's slot is being migrated between Redis
       Cluster nodes, a declared key that exists on neither node makes Redis refuse the call
       with ASK/TRYAGAIN rather than run it with some keys moved; see docs/redis-layout.md)
  and ARGV[1] = the queue base "P:Q:" from which job keys are built. Every key a script
  builds from BASE carries the queue's hash tag, so it is in the slot of KEYS.
  Defines: K (the keys by name), BASE, PRIORITY_SHIFT, DELAY_SHIFT. Needs: nothing.

  Numbers that can exceed 14 significant digits (scores) are only ever handed to redis.call
  as Lua numbers, never through tostring(), which would round them.
]]
local K = {
  wait = KEYS[1], active = KEYS[2], prioritized = KEYS[3], delayed = KEYS[4],
  completed = KEYS[5], failed = KEYS[6], meta = KEYS[7], events = KEYS[8],
  marker = KEYS[9], pc = KEYS[10], id = KEYS[11], stalled = KEYS[12],
  stalled_check = KEYS[13], limiter = KEYS[14], paused = KEYS[15], slot_guard = KEYS[16],
}
local BASE = ARGV[1]
local PRIORITY_SHIFT = 4294967296 -- 2^32
local DELAY_SHIFT = 4096          -- 2^12
