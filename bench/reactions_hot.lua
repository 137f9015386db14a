-- Reactions from distinct readers: every request is a new reader id (and a new client IP, sent in the
-- X-Forwarded-For header the service is configured to trust), like/dislike mixed 2:1.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local n = 0
local path, method, tag

function init(args)
  path = os.getenv("BENCH_PATH")
  method = os.getenv("BENCH_METHOD") or "PUT"
  tag = os.getenv("BENCH_TAG") or "r"
end

function request()
  n = n + 1
  local reader = tag .. "-" .. tid .. "-" .. n
  local kind = (n % 3 == 0) and "dislike" or "like"
  local ip = string.format("10.%d.%d.%d", tid % 256, math.floor(n / 256) % 256, n % 256)
  local body = '{"reader_id":"' .. reader .. '","kind":"' .. kind .. '"}'
  return wrk.format(method, path, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
end
