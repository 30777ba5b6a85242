# syntax=docker/dockerfile:1

# Stage 1: the front-end libraries, from the npm registry and the lockfile only.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && mkdir vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js vendor/htmx.min.js \
    && cp node_modules/htmx-ext-sse/dist/sse.min.js vendor/sse.min.js \
    && cp node_modules/idiomorph/dist/idiomorph-ext.min.js vendor/idiomorph-ext.min.js

# Stage 2: the app.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# WeasyPrint needs Pango and fonts to print the plan: Noto for every script
# (Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, CJK, emoji), and
# HarfBuzz's subsetter so a PDF embeds only the glyphs it uses.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
        fonts-dejavu-core fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin mutual

# The app finds templates/, static/ and alembic/ beside backend/, so the source
# stays in /app and the install is editable: the package's root remains /app.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend/ backend/
RUN pip install --no-cache-dir -e .

COPY alembic.ini ./
COPY alembic/ alembic/
COPY templates/ templates/
COPY static/ static/
COPY --from=assets /build/vendor/ static/vendor/

# The source stays root-owned and read-only to the app; only var/ is writable.
RUN mkdir -p var && chown mutual:mutual var

USER mutual
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# MUTUAL_WORKERS processes (PostgreSQL only; SQLite is refused above 1). Replicas
# starting together migrate one after another. Forwarded headers are trusted from
# any address because the container is meant to sit behind a reverse proxy;
# narrow MUTUAL_FORWARDED_ALLOW_IPS to its address if the port is reachable any
# other way.
CMD ["sh", "-c", "mutual migrate && exec mutual serve --host 0.0.0.0 --port 8000 --workers \"${MUTUAL_WORKERS:-1}\" --proxy-headers --forwarded-allow-ips \"${MUTUAL_FORWARDED_ALLOW_IPS:-*}\""]
