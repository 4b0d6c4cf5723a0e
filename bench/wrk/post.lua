-- wrk script for bench/load.py: POST one body, read from the file named by the first
-- argument after `--`, on every request. Counts as errors the responses other than 200
-- and the 200 responses whose JSON has a top-level GraphQL "errors" key, per thread
-- (threads share nothing); done() adds them up and prints one line, "WRK_RESULT
-- {json}", so that Python need not parse wrk's human output. bodies.lua loads this file
-- for setup(), done() and the helpers, and replaces init(), request() and response().

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   local file = assert(io.open(args[1], "rb"))
   wrk.method = "POST"
   wrk.body = file:read("*a")
   file:close()
   errors = 0
end

function response(status, headers, body)
   if failed(status, body) then
      errors = errors + 1
   end
end

-- The depth of the JSON value holding the string that opens at `stop`, or -1 when
-- `stop` is inside a string. Only called when '"errors"' occurs at all.
local function depth_at(body, stop)
   local depth, position = 0, 1
   while true do
      local at = body:find('[{}%[%]"]', position)
      if at == nil or at > stop then
         return -1
      end
      if at == stop then
         return depth
      end
      local char = body:byte(at)
      if char == 34 then -- a string: skip to its closing quote
         local scan = at + 1
         while true do
            local quote = body:find('["\\]', scan)
            if quote == nil then
               return -1
            end
            if body:byte(quote) == 92 then
               scan = quote + 2
            else
               position = quote + 1
               break
            end
         end
         if position > stop then
            return -1
         end
      else
         depth = depth + ((char == 123 or char == 91) and 1 or -1)
         position = at + 1
      end
   end
end

-- Whether a response failed: not a 200, or a GraphQL response with top-level "errors"
-- (a field named errors inside "data" does not count).
function failed(status, body)
   if status ~= 200 then
      return true
   end
   local at = body:find('"errors"', 1, true)
   while at do
      if depth_at(body, at) == 1 and body:find("^%s*:", at + 8) then
         return true
      end
      at = body:find('"errors"', at + 8, true)
   end
   return false
end

function done(summary, latency, _)
   local errors, used, exhausted = 0, 0, 0
   for _, thread in ipairs(threads) do
      errors = errors + (thread:get("errors") or 0)
      used = used + (thread:get("used") or 0)
      if thread:get("exhausted") then
         exhausted = exhausted + 1
      end
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "errors": %d, '
         .. '"p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, "connect": %d, "read": %d, '
         .. '"write": %d, "timeout": %d, "status": %d, "bodies_used": %d, '
         .. '"exhausted_threads": %d}\n',
      summary.requests, summary.duration, errors,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout, e.status, used, exhausted
   ))
   io.stdout:flush()
end
