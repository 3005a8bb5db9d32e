"""Run beraad under gunicorn from Python (used by `beraad serve`)."""

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker


class DrainingThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, which on SIGTERM also answers the connections already waiting
    in the listen backlog (a vote sent a moment before a deploy), instead of leaving them to be
    reset when the socket closes. It takes them all, closes its listening sockets at once (new
    connections go to another server on the port, or are refused and retried by the proxy), then
    finishes what it holds within graceful_timeout as usual."""

    def set_accept_enabled(self, enabled: bool) -> None:
        stopping = not enabled and not self.alive
        if stopping:
            self._take_waiting_connections()
        super().set_accept_enabled(enabled)
        if stopping:
            for listener in self.sockets:
                listener.close()
            self.sockets = []

    def _take_waiting_connections(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
            while True:
                try:
                    client, address = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionAbortedError:
                    continue
                self.nr_conns += 1
                client.setblocking(True)
                self.enqueue_req(TConn(self.cfg, client, address, listener.getsockname()))


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int, threads: int = 1) -> None:
    """Serve the app; no access log, so no participant's address is ever written down.
    Each worker serves `threads` requests at once (gunicorn's gthread, draining on SIGTERM)."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "beraad.server.DrainingThreadWorker",
            # Phones poll every 1.2 s: a kept-alive connection outlives the pause between polls.
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "forwarded_allow_ips": "127.0.0.1",
            "timeout": 60,
            # SIGTERM: take what waits in the backlog, stop accepting, let requests in flight finish
            # (a vote being sent), then stop.
            "graceful_timeout": 20,
            # A server restarted right after a crash binds at once, even while the crashed one's
            # orphaned workers still hold the port for a few seconds before they notice and exit.
            "reuse_port": True,
            # Nothing here uses gunicorn's control socket; one shared file per host helped nobody.
            "control_socket_disable": True,
        }
    ).run()
