-- bench/compat.py: POSTs pre-built bodies (one per line of the file named by BENCH_BODIES) to BENCH_PATH with
-- BENCH_TYPE as Content-Type, each wrk thread starting at its own offset.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local reqs = {}
local idx = 1

function init(args)
  local path = os.getenv("BENCH_PATH")
  local ctype = os.getenv("BENCH_TYPE")
  local f = assert(io.open(os.getenv("BENCH_BODIES"), "r"))
  for line in f:lines() do
    reqs[#reqs + 1] = wrk.format("POST", path, { ["Content-Type"] = ctype }, line)
  end
  f:close()
  idx = (tid * 97) % #reqs + 1
end

function request()
  local r = reqs[idx]
  idx = idx % #reqs + 1
  return r
end
