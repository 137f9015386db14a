# syntax=docker/dockerfile:1
# Multi-stage: build a wheel with the shipped model, install it into a slim runtime as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md schema.sql ./
COPY moderation ./moderation
COPY classifier ./classifier
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MODERATION_HOST=0.0.0.0 MODERATION_PORT=8080 MODERATION_DATA_DIR=/var/lib/moderation
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl \
    && useradd --system --create-home --uid 10001 moderation \
    && mkdir -p /var/lib/moderation && chown moderation /var/lib/moderation
USER moderation
EXPOSE 8080
# Set DATABASE_URL (a real Postgres) and MODERATION_WEBHOOK_SECRET for production.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
CMD ["moderation", "serve"]
