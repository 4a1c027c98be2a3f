"""gunicorn settings for production: `gunicorn clinic.wsgi` picks this file up from the working directory.

Overridable with the usual GUNICORN_CMD_ARGS or WEB_CONCURRENCY."""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
max_requests = 20000  # recycle workers now and then (a restart costs a few hundred ms of that worker)
max_requests_jitter = 2000
preload_app = True  # import Django once, before forking: faster (re)starts, shared memory
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# %(U)s is the path WITHOUT the query string: searches (?q=<patient name>) never reach the access log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
# A clinician's calendar-feed address (/calendar/<token>.ics) holds the secret that opens it: this logger masks
# the token in every atom of the format above (clinic/logmask.py).
logger_class = "clinic.logmask.GunicornLogger"
