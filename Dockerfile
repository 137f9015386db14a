# syntax=docker/dockerfile:1
# Multi-stage: build a wheel with the shipped model, install it into a slim runtime as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md schema.sql requirements.txt ./
# moderation/ carries the captcha's fonts (challenges/fonts) and voice clips (challenges/voices): every
# container renders with the same faces and voices, whatever the base image has installed
COPY moderation ./moderation
COPY classifier ./classifier
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MODERATION_HOST=0.0.0.0 MODERATION_PORT=8080 MODERATION_DATA_DIR=/var/lib/moderation
COPY --from=build /dist/*.whl /src/requirements.txt /tmp/
# The locked versions, each checked against its hash; then the wheel itself, resolving nothing more.
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
    && pip install --no-cache-dir --no-deps /tmp/*.whl && rm /tmp/*.whl /tmp/requirements.txt \
    && groupadd --system --gid 10001 moderation \
    && useradd --system --create-home --uid 10001 --gid 10001 moderation \
    && mkdir -p /var/lib/moderation && chown moderation /var/lib/moderation
# Numeric, so that Kubernetes' runAsNonRoot can verify it (a user *name* cannot be checked and is refused).
USER 10001:10001
EXPOSE 8080
# Set DATABASE_URL (a real Postgres) and MODERATION_WEBHOOK_SECRET for production.
# Readiness, not liveness: /readyz answers 200 only while the database answers and the model is loaded, and 503
# at once when the database is down (the service restarts an embedded Postgres itself; /healthz would stay 200
# through such an outage). It follows MODERATION_PORT so that overriding the port does not turn it unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('MODERATION_PORT', '8080'), timeout=2)" || exit 1
CMD ["moderation", "serve"]
