-- wrk script: every request GETs a random path from a list, one path per line.
--   wrk -t2 -c16 -d10s --latency -s bench/urls.lua http://127.0.0.1:PORT -- FILE
-- When the run ends it prints one line, "BENCH_JSON {...}", with the counts and the latency
-- percentiles in microseconds, for bench/wrk.py to read.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

local requests = {}

function init(args)
  local file = args[1]
  assert(file, "usage: wrk ... -s urls.lua URL -- FILE")
  for line in io.lines(file) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format("GET", line)
    end
  end
  assert(#requests > 0, "no paths in " .. file)
  -- Each thread draws its own sequence: seed from the clock and the thread's number.
  math.randomseed(os.time() * 1009 + (thread_number or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
