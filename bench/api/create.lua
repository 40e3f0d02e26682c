-- wrk script for bench/api/run: durable creates through the API.
--
-- Every request is an authenticated POST /v1/projects whose name is unique across wrk threads
-- and across runs: "<BERTH_RUN>-<thread>-<counter>". With BERTH_MODE=cycle, each project whose
-- create was acknowledged (201) is deleted by a later request of the same thread, so the loop
-- alternates durable creates and durable deletes and the database does not grow.
--
-- Environment: BERTH_TOKEN (admin token), BERTH_RUN (a DNS-label prefix unique per run),
-- BERTH_MODE ("create" or "cycle"). Unexpected statuses are counted by wrk ("Non-2xx or 3xx
-- responses") and the first few are written to stderr.
local next_thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

function init(args)
  local token = os.getenv("BERTH_TOKEN")
  if token == nil or token == "" then error("BERTH_TOKEN is not set") end
  run = os.getenv("BERTH_RUN") or "r"
  mode = os.getenv("BERTH_MODE") or "create"
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  counter = 0
  to_delete = {}
  errors = 0
end

function request()
  if mode == "cycle" and #to_delete > 0 then
    return wrk.format("DELETE", "/v1/projects/" .. table.remove(to_delete), headers)
  end
  counter = counter + 1
  local name = run .. "-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "/v1/projects", headers, '{"name":"' .. name .. '"}')
end

function response(status, headers, body)
  if status == 201 then
    if mode == "cycle" then table.insert(to_delete, string.match(body, '"name":"([^"]+)"')) end
  elseif status ~= 204 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
