# threadcrew's image: `docker build -t threadcrew .` (the README's "Running in Docker").
#
# Three stages on one base image: wheels of threadcrew and every dependency; a virtualenv that
# installs only those wheels; the runtime, which gets the virtualenv and a non-root user.
# Plain Dockerfile syntax: it builds with BuildKit and with the classic builder alike.
#
# Build arguments:
#   BASE_IMAGE  a Debian-like image with python3 (3.11+) and its venv module; the official slim
#               image by default. Every stage uses it, so the virtualenv fits the runtime's Python.
#   WHEELHOUSE  a directory of the build context with a wheel of every dependency and of setuptools
#               (`pip wheel -w wheelhouse ...`), for builds with no network; empty: fetch from PyPI.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS wheels
ARG WHEELHOUSE=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/pip
WORKDIR /src
# The dependencies first, from pyproject.toml alone: a change to the code reuses this layer.
# (With no WHEELHOUSE, README.md stands in for it: COPY needs a source.)
COPY pyproject.toml README.md ./
COPY ${WHEELHOUSE:-README.md} /wheelhouse/
RUN if [ -n "$WHEELHOUSE" ]; then offline="--no-index --find-links /wheelhouse"; else offline=""; fi \
    && /opt/pip/bin/pip wheel $offline --wheel-dir /wheels ".[postgres]" \
    && rm /wheels/threadcrew-*.whl
COPY . .
RUN if [ -n "$WHEELHOUSE" ]; then offline="--no-index --find-links /wheelhouse"; else offline=""; fi \
    && /opt/pip/bin/pip wheel $offline --no-deps --wheel-dir /wheels .

FROM ${BASE_IMAGE} AS install
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY --from=wheels /wheels /wheels
RUN python3 -m venv /opt/threadcrew \
    && /opt/threadcrew/bin/pip install --no-index --find-links /wheels "threadcrew[postgres]"

FROM ${BASE_IMAGE}
ARG UID=10001
RUN groupadd --system --gid "$UID" threadcrew \
    && useradd --system --uid "$UID" --gid threadcrew --create-home --shell /usr/sbin/nologin threadcrew \
    && mkdir /data && chown threadcrew:threadcrew /data
COPY --from=install /opt/threadcrew /opt/threadcrew
# The web server listens on every interface of the container (the process's default is loopback
# only); /data is where SQLite, code work dirs and files live when no PostgreSQL is configured.
ENV PATH=/opt/threadcrew/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    THREADCREW_DATA_DIR=/data \
    THREADCREW_HTTP_HOST=0.0.0.0 \
    THREADCREW_HTTP_PORT=3000 \
    THREADCREW_HEALTH=true
VOLUME /data
WORKDIR /data
USER threadcrew
EXPOSE 3000
# No curl in slim images: Python asks. urlopen raises (exit 1) unless /healthz answers 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${THREADCREW_HTTP_PORT:-3000}/healthz', timeout=4)"
ENTRYPOINT ["threadcrew"]
CMD ["run"]
