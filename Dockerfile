# syntax=docker/dockerfile:1
#
# shopdesk over Streamable HTTP, at http://HOST:8000/mcp, as a non-root user.
#
#   docker build -t shopdesk-mcp .
#
# One container, its shop in SQLite in the /data volume. The server will not put every customer's data on a
# network without bearer tokens, so make one first (it is printed once; the file keeps only its hash):
#
#   docker volume create shopdesk-data
#   docker run --rm -v shopdesk-data:/data shopdesk-mcp token create --subject me --scopes admin
#   docker run -d --name shopdesk -v shopdesk-data:/data -p 127.0.0.1:8000:8000 shopdesk-mcp
#
# then point a client at http://localhost:8000/mcp with "Authorization: Bearer <the token>". Started with no
# token, the container stops at once with one line saying so ("no auth file at /data/shopdesk.auth.json").
# The first start fills /data/shopdesk.sqlite3 with a demo shop. For τ²'s retail shop instead, before that:
#   docker run --rm -v shopdesk-data:/data shopdesk-mcp import-tau2
#
# - Published on another port, or reached by another name, the server must be told the URL clients use, as it
#   checks every request's Host header (DNS-rebinding protection): -e SHOPDESK_PUBLIC_URL=http://HOST:PORT/mcp
#   (and -e SHOPDESK_ALLOWED_HOSTS=host:port,... for any other name it is reached by).
# - To try it with no tokens at all (anyone who reaches the port has full access), empty the auth file setting
#   and say so; a command replaces the whole CMD:
#     docker run --rm -e SHOPDESK_AUTH_FILE= -p 127.0.0.1:8000:8000 shopdesk-mcp \
#       serve --transport http --host 0.0.0.0 --port 8000 --stateless --no-auth-i-know
# - Over stdio (an MCP client that launches its servers): docker run -i --rm -v shopdesk-data:/data shopdesk-mcp serve
# - Several replicas on one PostgreSQL shop, behind a load balancer: compose.yaml.
#
# A bind mount in place of the volume must be writable by uid 10001 (a named volume is made so on first use).

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the package and its dependencies, in a virtual environment the final image copies ---------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps everything else out of the context). The τ² retail
# shop in data/tau2-retail/ is installed as server/bundled_data (see pyproject.toml), so `import-tau2` works.
COPY pyproject.toml README.md LICENSE ./
COPY server/ server/
COPY client_demo/ client_demo/
COPY data/ data/
# From this context, not from PyPI (where `shopdesk` is another project); the postgres extra is asyncpg.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --upgrade pip \
    && pip install '.[postgres]'

# --- the image: Python, the virtual environment, nothing of the build -----------------------------------------
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 shopdesk \
    && useradd --system --uid 10001 --gid shopdesk --home-dir /home/shopdesk --create-home \
        --shell /usr/sbin/nologin shopdesk \
    && mkdir /data \
    && chown shopdesk:shopdesk /data
COPY --from=build /opt/venv /opt/venv
# Every setting also has a flag; a flag wins. The database and the auth file live in /data, the one place the
# server writes; logs go to stderr as one JSON object a line. The public URL is the one `-p 127.0.0.1:8000:8000`
# gives (requests naming localhost:8000 or 127.0.0.1:8000 are accepted); it is also what a 401 names.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONMALLOC=malloc \
    SHOPDESK_DB=/data/shopdesk.sqlite3 \
    SHOPDESK_AUTH_FILE=/data/shopdesk.auth.json \
    SHOPDESK_PUBLIC_URL=http://localhost:8000/mcp \
    SHOPDESK_LOG_FORMAT=json
USER 10001:10001
WORKDIR /data
EXPOSE 8000
# /healthz answers 200 while the database answers, else 503 (no token needed). The slim image has no curl: the
# standard library asks, and an HTTP error or no answer is an exception, so a non-zero exit. The first start
# fills a demo shop before it listens, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["shopdesk"]
# Every address inside the container (the published port decides who outside reaches it); stateless, so any
# number of replicas can share clients; tokens from SHOPDESK_AUTH_FILE, required.
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000", "--stateless"]
