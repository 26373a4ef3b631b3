-- login.lua — wrk script for the login benchmark (bench/http/run.sh).
--
--   wrk -s bench/http/login.lua URL/api/v2/auth/login -- USERNAME PASSWORD
--
-- Every request is POST /api/v2/auth/login with {"login":U,"password":P},
-- i.e. one Argon2id verification plus a session row per request. wrk counts
-- any status outside 2xx/3xx as "Non-2xx or 3xx responses"; run.sh fails the
-- run when that line appears (a 429 would mean the rate limiter was measured,
-- a 401 a wrong password, a 5xx a server fault).

local body

local function json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end) .. '"'
end

function init(args)
   local user, pass = args[1], args[2]
   if not user or not pass then
      error("usage: wrk -s login.lua URL -- USERNAME PASSWORD")
   end
   body = '{"login":' .. json_string(user) .. ',"password":' .. json_string(pass) .. '}'
end

function request()
   return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
