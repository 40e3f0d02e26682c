-- wrk script: authenticated POST /v1/projects with names unique across threads and runs.
-- BERTH_TOKEN and BERTH_RUN come from the environment. BERTH_MODE=cycle also deletes every
-- project once its create has been acknowledged (a create/delete loop); "create" only creates.
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  token = os.getenv("BERTH_TOKEN")
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
  if status == 201 and mode == "cycle" then
    table.insert(to_delete, string.match(body, '"name":"([^"]+)"'))
  elseif status >= 300 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
