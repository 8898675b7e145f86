-- wrk: one POST per line of a file ("path<TAB>bearer token<TAB>JSON body<TAB>idempotency key or empty"),
-- the threads taking the lines in turn, so that no line is sent twice until the file runs out.
-- Usage: wrk ... -s requests.lua <url> -- <lines file> <thread count>
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    lines[#lines + 1] = line
  end
  step = tonumber(args[2])
  position = thread_index + 1
end

function request()
  local line = lines[position]
  position = position + step
  if position > #lines then position = thread_index + 1 end
  local path, token, body, key = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t?([^\t]*)")
  local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if key ~= nil and key ~= "" then headers["Idempotency-Key"] = key end
  return wrk.format("POST", path, headers, body)
end
