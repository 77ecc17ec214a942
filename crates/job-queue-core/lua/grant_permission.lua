--[[ grant_permission: adds grants to a client's permissions (our key, outside every queue:
  `P::acl:<client>`, a hash whose fields are `<resource>\n<action>\n<conditions JSON>` and
  whose values are the ms the grant was made). A grant that exists already is kept as it is,
  so granting twice changes nothing. A client holds at most ARGV[1] grants, so reading and
  revoking them stays bounded.

  KEYS[1] P::acl:<client>
  ARGV[1] the most grants a client may hold  [2] now ms  [3..] the grants' fields
  Returns how many grants were new, or -1 (nothing written) when they would exceed ARGV[1].
]]
local key = KEYS[1]
local added = 0
for i = 3, #ARGV do
  if redis.call("HEXISTS", key, ARGV[i]) == 0 then
    added = added + 1
  end
end
if added == 0 then
  return 0
end
if redis.call("HLEN", key) + added > tonumber(ARGV[1]) then
  return -1
end
for i = 3, #ARGV do
  redis.call("HSETNX", key, ARGV[i], ARGV[2])
end
return added
