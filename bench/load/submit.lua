-- POST /v1/jobs at a fixed rate: each wrk thread sends TPCCMA_LOAD_RATE_PER_THREAD requests a second, on a
-- schedule shared by its connections (a request whose slot has passed goes at once, so a slow server gets no
-- pause). No Idempotency-Key: every request creates and enqueues a job.
-- Environment: TPCCMA_LOAD_KEY, TPCCMA_LOAD_MODEL, TPCCMA_LOAD_DATASET, TPCCMA_LOAD_RATE_PER_THREAD.
dofile("bench/load/report.lua")
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } load_timespec;
  int clock_gettime(int clock, load_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local now = ffi.new("load_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local function env(name)
  local value = os.getenv(name)
  assert(value, name .. " is not set")
  return value
end

wrk.method = "POST"
wrk.path = "/v1/jobs"
wrk.headers["Authorization"] = "Bearer " .. env("TPCCMA_LOAD_KEY")
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"name": "load", "base_model": "%s", "dataset": "%s", "spec": {"steps": 5, "batch_size": 8}}',
  env("TPCCMA_LOAD_MODEL"), env("TPCCMA_LOAD_DATASET"))

local interval = 1000 / tonumber(env("TPCCMA_LOAD_RATE_PER_THREAD"))
local next_slot = nil

function delay()
  local t = now_ms()
  next_slot = next_slot or t
  local wait = next_slot - t
  next_slot = next_slot + interval
  return wait > 0 and wait or 0
end
