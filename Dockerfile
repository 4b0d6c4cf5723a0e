# syntax=docker/dockerfile:1
# Build stage: resolve the pinned dependencies into a virtualenv.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml constraints.txt README.md ./
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
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# DATABASE_URL (postgresql://...) and PAYGRAPH_JWT_SECRET must be set at run time.
CMD ["paygraph", "serve"]
