# syntax=docker/dockerfile:1
# Build stage: resolve the pinned dependencies into a virtualenv.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml constraints.txt README.md LICENSE ./
# The packages pyproject.toml installs (tests/unit/test_containers.py holds the two lists
# together).
COPY domain domain
COPY db db
COPY resolvers resolvers
COPY schema schema
COPY gateway gateway
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir -c constraints.txt .

# Runtime stage: only the virtualenv, as a non-root user.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 paygraph
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PAYGRAPH_ENV=production \
    PAYGRAPH_HOST=0.0.0.0 \
    PAYGRAPH_PORT=8000
USER paygraph
WORKDIR /home/paygraph
# Uploaded documents (PAYGRAPH_STORAGE_DIR's default, ./var/documents): made here so a
# volume mounted on var/ starts out owned by the paygraph user.
RUN mkdir -p var/documents
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; url = f\"http://127.0.0.1:{os.environ.get('PAYGRAPH_PORT', '8000')}/healthz\"; sys.exit(urllib.request.urlopen(url, timeout=2).status != 200)"]
# Set at run time: DATABASE_URL (postgresql://...), PAYGRAPH_JWT_SECRET, and
# PAYGRAPH_PAYOUT_URL (or PAYGRAPH_PAYOUT_PROVIDER=sandbox for a trial without payouts).
# `serve` creates the database when missing (and the URL's user may) and migrates it.
CMD ["paygraph", "serve"]
