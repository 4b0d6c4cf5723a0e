-- wrk script for bench/load.py: POST a different body on every request, each body at
-- most once (they are writes that must not repeat). Arguments after `--`: the bodies
-- file (records of "<byte length>\n<body>") and the number of wrk threads. Thread k of
-- n takes bodies k, k+n, k+2n...; a thread that has handed out its last body sends
-- nothing more (its connections go idle) and, once its last response has arrived,
-- stops and prints "WRK_EXHAUSTED <k>": when every thread has, bench/load.py ends the
-- run (wrk would otherwise wait out the duration).
-- setup(), done() and failed() come from post.lua.

dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "post.lua")

local requests = {}
local next_request = 1
local in_flight = 0
-- wrk calls request() once on the first thread before the run, only to check that
-- what it returns parses: that call must not use up a body.
local verifying = false

function init(args)
   local file = assert(io.open(args[1], "rb"))
   local data = file:read("*a")
   file:close()
   local thread_count = tonumber(args[2])
   local position, index = 1, 0
   while position <= #data do
      local newline = assert(data:find("\n", position, true), "the bodies file is cut short")
      local length = tonumber(data:sub(position, newline - 1))
      if index % thread_count == id - 1 then
         local body = data:sub(newline + 1, newline + length)
         requests[#requests + 1] = wrk.format("POST", nil, nil, body)
      end
      position = newline + 1 + length
      index = index + 1
   end
   verifying = id == 1
   errors = 0
   used = 0
   exhausted = false
end

-- Out of bodies and every response in: stop this thread, and say so.
local finished = false
local function finish()
   if not finished then
      finished = true
      wrk.thread:stop()
      io.stdout:write("WRK_EXHAUSTED " .. id .. "\n")
      io.stdout:flush()
   end
end

function request()
   if verifying then
      verifying = false
      return requests[1] or wrk.format("POST", nil, nil, "{}")
   end
   local next = requests[next_request]
   if next == nil then
      exhausted = true
      if in_flight == 0 then
         finish()
      end
      return "" -- nothing is sent: the connection waits, idle, until the thread stops
   end
   requests[next_request] = nil
   next_request = next_request + 1
   used = used + 1
   in_flight = in_flight + 1
   return next
end

function response(status, headers, body)
   in_flight = in_flight - 1
   if failed(status, body) then
      errors = errors + 1
   end
   if exhausted and in_flight == 0 then
      finish()
   end
end

