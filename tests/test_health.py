"""Liveness and readiness for a load balancer: /healthz and /readyz, on both databases."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from beraad.extensions import db, limiter

from .conftest import without_a_database


def test_healthz_says_the_process_is_up_without_touching_the_database(app, client, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("the liveness check touched the database")

    with app.app_context():
        monkeypatch.setattr(db.engine, "connect", no_database)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_checks_database_schema_and_rate_limit_store(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["migrations"].startswith("current")
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_not_ready_while_an_upgrade_is_pending(app, client):
    with app.app_context():
        db.engine.dispose()
        downgrade(revision="0008")
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "run beraad init" in response.json["checks"]["migrations"]
    finally:
        with app.app_context():
            db.engine.dispose()
            upgrade()


def test_readyz_is_not_ready_when_the_rate_limit_store_does_not_answer(app, client, monkeypatch):
    def down():
        raise ConnectionError("redis gone")

    with app.app_context():
        monkeypatch.setattr(limiter.storage, "check", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["rate_limit_storage"] == "does not answer (ConnectionError)"


@without_a_database
def test_readyz_without_its_database_is_503_and_names_no_secret(tmp_path, url):
    from beraad import create_app

    from .conftest import base_config

    client = create_app(base_config(url, tmp_path)).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("unreachable")
    assert "nonexistent" not in response.get_data(as_text=True)


def test_health_checks_are_never_rate_limited(app, client):
    for _ in range(400):
        assert client.get("/healthz").status_code == 200
