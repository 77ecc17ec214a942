--[[ remove_job: delete a job that has not started or has finished (spec §6.8 job.remove).
  A running job is refused: its worker holds it.

  KEYS: the queue keys (include/common.lua)
  ARGV[1] base  [2] job id
  Returns 0, -1 when the job does not exist, -3 when it is running.
]]
local id = ARGV[2]
if redis.call("EXISTS", BASE .. id) == 0 then return -1 end
local state = pending_state(id)
if not state then
  if redis.call("ZSCORE", K.completed, id) then
    state = "completed"
  elseif redis.call("ZSCORE", K.failed, id) then
    state = "failed"
  elseif redis.call("LPOS", K.active, id) then
    return -3
  else
    state = "unknown"
  end
end
if state ~= "unknown" then unlink(id, state) end
remove_job(id, state)
return 0
