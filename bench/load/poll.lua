-- GET /v1/jobs/{id} as fast as the connections allow: what a dashboard or many clients polling a job cost.
-- Environment: TPCCMA_LOAD_KEY (a user's API key), TPCCMA_LOAD_JOB (a job id).
dofile("bench/load/report.lua")
wrk.method = "GET"
wrk.path = "/v1/jobs/" .. assert(os.getenv("TPCCMA_LOAD_JOB"), "TPCCMA_LOAD_JOB is not set")
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("TPCCMA_LOAD_KEY"), "TPCCMA_LOAD_KEY is not set")
