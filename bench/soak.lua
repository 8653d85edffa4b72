-- wrk script for the soak run: every URL listed in $BENCH_SOAK_URLS in turn (a line is a
-- path, then its headers, separated by tabs); the summary as bench/report.lua prints it.
dofile("bench/report.lua")

local requests = {}

init = function(args)
  for line in io.lines(os.getenv("BENCH_SOAK_URLS")) do
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do
      fields[#fields + 1] = field
    end
    local headers = {}
    for i = 2, #fields do
      local name, value = string.match(fields[i], "^([^:]+): (.*)$")
      headers[name] = value
    end
    requests[#requests + 1] = wrk.format("GET", fields[1], headers)
  end
end

local next_request = 0

request = function()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
