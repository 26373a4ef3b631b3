-- users.lua — wrk script for the authenticated feed runs with many users (bench/feed/run.sh).
--
--   wrk -tTHREADS -s bench/feed/users.lua URL -- TOKEN_FILE THREADS
--
-- TOKEN_FILE has one access token per line, one user each. Thread k of
-- THREADS takes lines k, k+THREADS, k+2*THREADS, ... and sends them
-- round-robin, one pre-built request per user: with U users and N requests
-- in a run, min(U, N) distinct users are served, each once before any
-- twice. run.sh gives every run its own users, so each user's first request
-- is a cold For you ranking, not a reuse of an earlier one.
-- The request() function makes wrk call Lua once per request (a table
-- lookup); the cost to wrk is small next to a For you page.

local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

local reqs, n, i = {}, 0, 0

function init(args)
   local file, threads = args[1], tonumber(args[2])
   if not file or not threads then
      error("usage: wrk -s users.lua URL -- TOKEN_FILE THREADS")
   end
   local line_no = 0
   for tok in io.lines(file) do
      if tok ~= "" then
         if line_no % threads == tid then
            n = n + 1
            reqs[n] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok })
         end
         line_no = line_no + 1
      end
   end
   if n == 0 then
      error("users.lua: no token for thread " .. tostring(tid) .. " in " .. file)
   end
end

function request()
   i = i % n + 1
   return reqs[i]
end
