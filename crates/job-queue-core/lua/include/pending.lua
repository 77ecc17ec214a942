--[[ pending: where a job that has not started waits, and taking it out of there.

  Defines: pending_state, unlink. Needs: keys.
]]
-- Where a job waits, if it has not started: "delayed", "prioritized", "wait", "paused" (BullMQ
-- 5's legacy list, until a resume moves it into wait), else nil.
local function pending_state(id)
  if redis.call("ZSCORE", K.delayed, id) then return "delayed" end
  if redis.call("ZSCORE", K.prioritized, id) then return "prioritized" end
  if redis.call("LPOS", K.wait, id) then return "wait" end
  if redis.call("LPOS", K.paused, id) then return "paused" end
  return nil
end

-- Takes a job out of the list or set `state` names (a pending_state answer).
local function unlink(id, state)
  if state == "wait" or state == "paused" then
    redis.call("LREM", K[state], 1, id)
  else
    redis.call("ZREM", K[state], id)
  end
end
