# kefu: one image, `kefu serve` on port 8080, data in /app/var (mount a volume there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KEFU_HOST=0.0.0.0 \
    KEFU_PORT=8080 \
    KEFU_VAR_DIR=/app/var \
    KEFU_DATABASE_URL=sqlite:////app/var/kefu.db

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kefu

COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY intents ./intents
COPY knowledge ./knowledge
COPY handlers ./handlers
COPY models ./models
COPY scheduler ./scheduler
RUN pip install -c constraints.txt . \
    && mkdir -p /app/var && chown kefu:kefu /app/var

USER kefu
VOLUME ["/app/var"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
CMD ["kefu", "serve"]
