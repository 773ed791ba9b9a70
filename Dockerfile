# Herald, full mode: one image for the web edge, the workers and migrations.
#   docker build -t herald .
#   docker run herald                      -> web (gunicorn, gevent)
#   docker run herald dramatiq workers.main -> worker
#   docker run herald herald db upgrade    -> migrations
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HERALD_DATA_DIR=/var/lib/herald \
    HOST=0.0.0.0 \
    PORT=8080

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build *.egg-info \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/herald --shell /usr/sbin/nologin herald \
    && mkdir -p /var/lib/herald \
    && chown herald:herald /var/lib/herald

USER herald
EXPOSE 8080

# The Procfile's web line; gunicorn reads PORT and WEB_CONCURRENCY itself.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "web.wsgi:app"]
