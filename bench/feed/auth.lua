-- auth.lua — wrk script for the authenticated feed runs with one user (bench/feed/run.sh).
--
--   wrk -s bench/feed/auth.lua URL -- ACCESS_TOKEN
--
-- Adds "Authorization: Bearer <token>" to every request. The header is set
-- once per thread in init() and no request() function is defined, so wrk
-- keeps sending one pre-built request (no Lua runs per request) and the runs
-- with and without this script cost wrk the same. For many users, see
-- users.lua.

function init(args)
   local token = args[1]
   if not token or token == "" then
      error("usage: wrk -s auth.lua URL -- ACCESS_TOKEN")
   end
   wrk.headers["Authorization"] = "Bearer " .. token
end
