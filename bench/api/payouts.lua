-- wrk script: every request pays another member (L000000, L000001, …) for 2026-01 with a key
-- of its own. Threads take members in turn so that no two requests name the same member.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  n = 0
  step = tonumber(args[1]) or 1
  token = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local member = id + n * step
  n = n + 1
  wrk.headers["Idempotency-Key"] = string.format("bench-%d", member)
  local body = string.format('{"member_id":"L%06d","policy_id":"tangdaifu-smbg","period":"2026-01"}', member)
  return wrk.format(nil, "/v1/payouts", nil, body)
end
