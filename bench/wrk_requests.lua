-- Replays pre-signed requests from the TSV file named by BENCH_REQUESTS (id, timestamp, signature, body);
-- each wrk thread takes every n-th line so no two threads send the same webhook-id.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local reqs = {}
local idx = 0
local step = 1

function init(args)
  local path = os.getenv("BENCH_PATH") or "/v1/webhooks/comments"
  local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  for line in f:lines() do
    local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig }, body)
  end
  f:close()
  step = tonumber(os.getenv("BENCH_THREADS") or "2")
  idx = tid + 1
end

function request()
  local r = reqs[idx]
  idx = idx + step
  if idx > #reqs then idx = tid + 1 end
  return r
end
