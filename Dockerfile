# beraad as a container: slim, non-root, gunicorn. See deploy/README.md and compose.yaml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BERAAD_INSTANCE_PATH=/var/lib/beraad \
    BERAAD_PRODUCTION=1

RUN useradd --system --home-dir /app --shell /usr/sbin/nologin beraad \
    && mkdir -p /var/lib/beraad && chown beraad /var/lib/beraad
WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY beraad ./beraad
COPY templates ./templates
COPY static ./static
COPY methods ./methods
COPY dilemma_bank ./dilemma_bank
COPY migrations ./migrations
COPY docs ./docs
RUN pip install -e ".[redis]" \
    && pybabel compile -d beraad/translations
USER beraad
EXPOSE 8000
# Liveness for the orchestrator; the load balancer should use /readyz.
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# init is safe to run on every instance at once (an advisory lock); then serve.
CMD ["sh", "-c", "beraad init && exec beraad serve --host 0.0.0.0 --port 8000"]
