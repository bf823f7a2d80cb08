-- Cycles through pre-signed webhook bodies, one "signature<TAB>body" per line, from the
-- line after `offset` (second argument, 0: the first line). wrk calls request() once
-- before the run to check the script (thread 0: run with -t1) and sends nothing of it:
-- that call gets the last line, so every line is sent in order, the first one first.
local sigs, bodies = {}, {}
local idx = 0

function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    sigs[#sigs + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  idx = (tonumber(args[2] or "0") - 1) % #bodies
end

function request()
  idx = idx % #bodies + 1
  return wrk.format("POST", "/webhooks/whatsapp",
    {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = sigs[idx]}, bodies[idx])
end
