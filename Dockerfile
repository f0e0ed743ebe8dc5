# Backprop Playground with the embedded SQLite store on the /data volume.
#   docker build -t backprop-playground .
#   docker run -p 8000:8000 -v playground-data:/data backprop-playground
# No Docker engine runs in this project's CI, so every step below is a command that `make test` (CI)
# and `make run` already exercise: the Makefile's `install` target and the `backprop-playground`
# entry point. tests/test_cli.py checks that those still exist.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# Same as CI: creates .venv, installs the package (editable) with uv, then `npm ci` for htmx and Plotly.
RUN make install TORCH=0

# The server runs unprivileged; it writes only its store, in /data (the code stays root-owned).
RUN useradd --system --uid 10001 --user-group --no-create-home playground \
 && mkdir -p /data && chown playground:playground /data
VOLUME /data

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PLAYGROUND_STORE=sqlite:////data/playground.db
USER playground
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/app/.venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# One worker by default; add `--workers N` to share the SQLite file between N processes of this container
# (several hosts need PLAYGROUND_STORE=redis://...).
CMD ["/app/.venv/bin/backprop-playground", "serve", "--host", "0.0.0.0", "--port", "8000"]
