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


def run_gunicorn(host: str, port: int, workers: int) -> None:
    """Serve the app; no access log, so no participant's address is ever written down."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": None,
            "errorlog": "-",
            "forwarded_allow_ips": "127.0.0.1",
            "timeout": 60,
        }
    ).run()
