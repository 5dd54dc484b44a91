"""The load process: ``wrk -t2 -c16 --latency`` with a Lua script printing req/s, p50 and p95 as JSON, or a
small threaded Python load generator with the same output when wrk is not installed; and ``post_form``, wrk
POSTing one form again and again and counting only the expected redirects (the logins/s run)."""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess  # nosec B404
import threading
import time
import urllib.request
from pathlib import Path

REPORT_LUA = """
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format('\\nBENCH {"requests": %d, "rps": %.2f, "p50_ms": %.2f, "p95_ms": %.2f, '
    .. '"errors": %d, "non_2xx": %d}\\n', summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""

# The form, the Cookie header and the expected Location suffix come in as script arguments (after "--"). Each wrk
# thread counts its own answers (globals of its Lua state); done() sums them through setup()'s thread handles.
POST_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok, other, first = 0, 0, ""
  suffix = args[3]
  req = wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = args[2]},
                   args[1])
end
function request() return req end
function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status == 302 and location:sub(-#suffix) == suffix then
    ok = ok + 1
  else
    other = other + 1
    if first == "" then first = status .. " " .. location end
  end
end
done = function(summary, latency, requests)
  local good, bad, seen = 0, 0, ""
  for _, thread in ipairs(threads) do
    good, bad = good + thread:get("ok"), bad + thread:get("other")
    if seen == "" then seen = thread:get("first") end
  end
  io.write(string.format('\\nBENCH {"requests": %d, "successes": %d, "other": %d, "seconds": %.3f, '
    .. '"errors": %d, "p50_ms": %.2f, "first_other": "%s"}\\n', summary.requests, good, bad,
    summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1000, (seen:gsub('"', "'"))))
end
"""


def have_wrk() -> bool:
    """Whether the wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def run(url: str, seconds: int, cookie: str | None, workdir: Path, connections: int = 16) -> dict:
    """Drive url for seconds with 16 connections; returns requests, rps, p50_ms, p95_ms, errors, non_2xx."""
    if have_wrk():
        return _wrk(url, seconds, cookie, workdir, connections)
    return _threads(url, seconds, cookie, connections)


def _wrk(url, seconds, cookie, workdir, connections):
    script = workdir / "report.lua"
    script.write_text(REPORT_LUA)
    command = [shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout  # nosec B603
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    return json.loads(line[len("BENCH "):])


def _threads(url, seconds, cookie, connections):
    latencies, errors, non_2xx = [], [0], [0]
    lock, deadline = threading.Lock(), time.perf_counter() + seconds

    def worker():
        while time.perf_counter() < deadline:
            request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request) as response:  # noqa: S310  # nosec B310 - loopback
                    response.read()
                    ok = 200 <= response.status < 400
            except Exception:  # noqa: BLE001 - count and go on, as wrk does
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                non_2xx[0] += not ok

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"requests": len(latencies), "rps": round(len(latencies) / seconds, 2), "p50_ms": round(cuts[49], 2),
            "p95_ms": round(cuts[94], 2), "errors": errors[0], "non_2xx": non_2xx[0]}


def post_form(url: str, seconds: int, body: str, cookie: str, location_suffix: str, workdir: Path,
              connections: int = 16) -> dict:
    """wrk -t2 POSTing body with cookie for seconds; only 302s to location_suffix count as successes (per_s)."""
    script = workdir / "post.lua"
    script.write_text(POST_LUA)
    # A sync worker answers one request at a time: with 16 connections on 2 workers a slow step waits in the
    # queue for seconds, and wrk's default 2 s timeout would drop answers the server did compute.
    command = [shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "120s", "-s", str(script),
               url, "--", body, cookie, location_suffix]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603  # nosec B603
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    found = json.loads(line[len("BENCH "):])
    found["per_s"] = round(found["successes"] / found["seconds"], 2)
    return found
