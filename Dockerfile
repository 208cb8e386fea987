# One image for the three services and the console; the command picks which.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
COPY shared ./shared
COPY services ./services
# Install the five packages with every dependency pinned by the lock file; the development packages (tools/local/,
# the local broker and make run's supervisor; simulation/) are neither copied nor installed.
RUN grep -v '^-e ' requirements.lock > /tmp/constraints.txt \
    && pip install --no-cache-dir -c /tmp/constraints.txt ./shared ./services/scoring ./services/limits ./services/alerts ./services/console \
    && rm /tmp/constraints.txt \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin creditguard

USER 10001
EXPOSE 8001 8002 8003 8004
# Overridden per service, e.g. ["creditguard-scoring", "serve", "--migrate", "--host", "0.0.0.0"].
CMD ["creditguard-limits", "serve", "--migrate", "--host", "0.0.0.0"]
