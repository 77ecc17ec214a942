--[[ revoke_permission: removes grants from a client's permissions (`P::acl:<client>`, see
  grant_permission.lua): every grant on the resource (whatever its conditions), or only those
  of the actions given. The hash holds at most the grant cap, so one pass over it is bounded.

  KEYS[1] P::acl:<client>
  ARGV[1] resource  [2..] actions (none given: every action)
  Returns how many grants were removed.
]]
local key = KEYS[1]
local head = ARGV[1] .. "\n"
local actions = nil
if #ARGV > 1 then
  actions = {}
  for i = 2, #ARGV do
    actions[ARGV[i]] = true
  end
end
local gone = {}
for _, field in ipairs(redis.call("HKEYS", key)) do
  if string.sub(field, 1, #head) == head then
    local rest = string.sub(field, #head + 1)
    local cut = string.find(rest, "\n", 1, true)
    local action = cut and string.sub(rest, 1, cut - 1) or rest
    if actions == nil or actions[action] then
      gone[#gone + 1] = field
    end
  end
end
if #gone > 0 then
  redis.call("HDEL", key, unpack(gone))
end
return #gone
