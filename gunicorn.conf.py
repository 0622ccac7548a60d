"""gunicorn settings: `gunicorn wsgi:app` reads this file from the working directory."""

import gc
import multiprocessing
import os

bind = os.environ.get("BLOG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("BLOG_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# A new worker may still be starting up while the old one serves; keep slow requests bounded.
timeout = 30
graceful_timeout = 10
keepalive = 5
# Load the app once in the master so workers share its memory and start fast.
preload_app = True
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("BLOG_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("BLOG_LOG_LEVEL", "info")


def when_ready(server):
    """Ready the preloaded app in the master, so that every worker is forked ready to serve.

    - Templates are compiled here once: a new worker (at start, and each time max_requests
      recycles one) would otherwise compile them while its first visitors wait, about 60 ms.
    - What is loaded by now lives as long as a worker does, so it is frozen out of the
      garbage collector's sight: a full collection walking it paused a worker for about
      100 ms every few thousand pages.
    """
    if not server.cfg.preload_app:
        return
    env = server.app.wsgi().jinja_env
    for name in env.list_templates():
        env.get_template(name)
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """Give each worker its own database connections: none may cross a fork."""
    from blog import engines

    engines.dispose(server.app.wsgi(), close=False)
