"""gunicorn settings for kanri behind nginx (docs/operations.md): `gunicorn -c gunicorn.conf.py wsgi:app`.

Command-line options override these (the multi-instance test starts it with `-b 127.0.0.1:PORT -w 1`).
"""
import multiprocessing
import os

# nginx on the same host connects here; another host's proxy needs the private address instead.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request is short (the slow work — mail, PDFs of many pages, backups — runs elsewhere).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 60  # a PDF report of several hundred 住戸 takes a few seconds; anything near a minute is a bug
graceful_timeout = 30  # systemd's TimeoutStopSec should be longer
keepalive = 5  # nginx keeps upstream connections open (keepalive in the upstream block)
max_requests = 5000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 500
limit_request_line = 8190
# Only nginx on this host may say which client and scheme a request came from (KANRI_PROXY_FIX=1 reads them).
forwarded_allow_ips = "127.0.0.1"
# The application writes one JSON `request` line per request to stderr itself; no second access log.
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "kanri"


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """Drop a dead worker's Prometheus files (only when KANRI_METRICS uses PROMETHEUS_MULTIPROC_DIR)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        try:
            from prometheus_client import multiprocess
        except ImportError:
            return
        multiprocess.mark_process_dead(worker.pid)
