--[[ audit_append: appends entries to the audit log of a key prefix (our key, outside every
  queue: `P::audit`, a stream capped at about ARGV[1] entries). Entry ids follow the writers'
  clocks (`<ms>-<n>`), never going back: an entry whose time is older than the newest entry's
  gets the newest entry's ms and the next sequence number, so ids stay in order.

  KEYS[1] P::audit
  ARGV[1] the stream's approximate cap  [2] fields per entry (name/value pairs, F)
      [3..] each entry: its ms, then F names and F values alternating; an empty value is
      left out
  Returns the ids written.
]]
local key = KEYS[1]
local cap = tonumber(ARGV[1])
local pairs_per_entry = tonumber(ARGV[2])
local last_ms, last_seq = -1, -1
local newest = redis.call("XREVRANGE", key, "+", "-", "COUNT", 1)
if #newest > 0 then
  local id = newest[1][1]
  local dash = string.find(id, "-", 1, true)
  last_ms = tonumber(string.sub(id, 1, dash - 1))
  last_seq = tonumber(string.sub(id, dash + 1))
end
local ids = {}
local i = 3
while i <= #ARGV do
  local ms = tonumber(ARGV[i])
  local seq = 0
  if ms <= last_ms then
    ms = last_ms
    seq = last_seq + 1
  end
  local fields = {}
  for j = 1, pairs_per_entry do
    local name, value = ARGV[i + 2 * j - 1], ARGV[i + 2 * j]
    if value ~= "" then
      fields[#fields + 1] = name
      fields[#fields + 1] = value
    end
  end
  local id = ms .. "-" .. seq
  redis.call("XADD", key, "MAXLEN", "~", cap, id, unpack(fields))
  ids[#ids + 1] = id
  last_ms, last_seq = ms, seq
  i = i + 1 + 2 * pairs_per_entry
end
return ids
