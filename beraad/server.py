"""Run beraad under gunicorn from Python (used by `beraad serve`)."""

from gunicorn.app.base import BaseApplication


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
    With threads > 1 each worker serves that many requests at once (gunicorn's gthread)."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            # Phones poll every 1.2 s: a kept-alive connection outlives the pause between polls.
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "forwarded_allow_ips": "127.0.0.1",
            "timeout": 60,
            # SIGTERM: stop accepting, let requests in flight finish (a vote being sent), then stop.
            "graceful_timeout": 20,
            # A server restarted right after a crash binds at once, even while the crashed one's
            # orphaned workers still hold the port for a few seconds before they notice and exit.
            "reuse_port": True,
            # Nothing here uses gunicorn's control socket; one shared file per host helped nobody.
            "control_socket_disable": True,
        }
    ).run()
