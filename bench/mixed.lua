-- The mixed traffic of bench_mixed.py for wrk: each request is drawn with the same weights (followers aside,
-- which Python runs). FTEMU_FILES and FTEMU_MODELS name the files to train on and the tuned models to query.
local auth = "Bearer sk-bench-000000000000"
local function split(text)
  local out = {}
  for item in string.gmatch(text or "", "[^,]+") do out[#out + 1] = item end
  return out
end
local files = split(os.getenv("FTEMU_FILES"))
local models = split(os.getenv("FTEMU_MODELS"))
local lines = {}
for i = 0, 99 do
  lines[#lines + 1] = string.format(
    '{"prompt": "The capital of Country%d is\\n\\n###\\n\\n", "completion": " City%d\\n"}', i, i)
end
local boundary = "ftemu-bench-boundary"
local upload = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
  .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.jsonl\"\r\n"
  .. "Content-Type: application/octet-stream\r\n\r\n" .. table.concat(lines, "\n") .. "\n\r\n--" .. boundary .. "--\r\n"
local json = {["Authorization"] = auth, ["Content-Type"] = "application/json"}
local plain = {["Authorization"] = auth}
local multipart = {["Authorization"] = auth, ["Content-Type"] = "multipart/form-data; boundary=" .. boundary}

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

-- Weights out of 92 (bench_mixed.py's, without its 8 followers): models 25, files 12, fine-tunes 12,
-- completion 15, tuned 10, upload 10, create 8.
function request()
  local r = math.random(92)
  if r <= 25 then return wrk.format("GET", "/v1/models", plain) end
  if r <= 37 then return wrk.format("GET", "/v1/files", plain) end
  if r <= 49 then return wrk.format("GET", "/v1/fine-tunes", plain) end
  if r <= 64 then
    return wrk.format("POST", "/v1/completions", json, '{"model": "ada", "prompt": "Hello", "max_tokens": 8}')
  end
  if r <= 74 then
    local body = string.format('{"model": "%s", "prompt": "The capital of Country%d is\\n\\n###\\n\\n", "max_tokens": 4}',
      models[math.random(#models)], math.random(0, 99))
    return wrk.format("POST", "/v1/completions", json, body)
  end
  if r <= 84 then return wrk.format("POST", "/v1/files", multipart, upload) end
  return wrk.format("POST", "/v1/fine-tunes", json, string.format('{"training_file": "%s"}', files[math.random(#files)]))
end

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d seconds=%.3f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f socket_errors=%d non200=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
