# s3-stream-proxy container image: one image, two modes (docs/deploy.md, "Container image").
#   AWS_LAMBDA_RUNTIME_API set (Lambda) -> our streaming Lambda runtime
#   otherwise (ECS, Kubernetes, docker run) -> uvicorn on 0.0.0.0:$PORT
#
# Base: Docker's official python:3.13-slim-bookworm, not AWS's Lambda Python image. Our
# runtime speaks the Runtime API itself, so the Lambda image's runtime interface client and
# AL2023 userland add nothing, and the same slim Debian image runs unchanged off Lambda.
# Pinned by tag; release builds pin the digest too:
#   docker build --build-arg PYTHON_IMAGE=python:3.13-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_PYTHON=/opt/s3-stream-proxy/bin/python
# No pip inside the venv: the base image's pip installs into it (PIP_PYTHON).
RUN python -m venv --without-pip /opt/s3-stream-proxy
WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# Wheels only, so the build never needs a compiler.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install --only-binary=:all: --requirement requirements.txt

# Then the package itself, without touching the dependency layer.
COPY README.md ./
COPY service ./service
# After the install, all byte code again, hash-based and unchecked (PEP 552), replacing pip's
# timestamp-checked files: Lambda runs images on a read-only file system, where a .pyc that a
# timestamp check finds stale is recompiled at every cold start and never saved (-f: pip's
# files would pass as current).
RUN pip install --no-deps . \
    && python -m compileall -f -q -j 0 --invalidation-mode unchecked-hash /opt/s3-stream-proxy/lib

FROM ${PYTHON_IMAGE}
# Lambda runs images as its own unprivileged user on a read-only file system (writable
# /tmp); elsewhere this user keeps the process from running as root.
RUN groupadd --system --gid 10001 s3proxy \
    && useradd --system --uid 10001 --gid s3proxy --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin s3proxy
COPY --from=build /opt/s3-stream-proxy /opt/s3-stream-proxy
ENV PATH=/opt/s3-stream-proxy/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080
USER 10001:10001
EXPOSE 8080
# Container mode only: under Lambda there is no HTTP listener (and Lambda ignores HEALTHCHECK).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request\nif os.environ.get('AWS_LAMBDA_RUNTIME_API'):\n    sys.exit(0)\ntry:\n    urllib.request.urlopen('http://127.0.0.1:%s/_s3proxy/health' % os.environ.get('PORT', '8080'), timeout=4)\nexcept Exception as exc:\n    sys.exit(f'unhealthy: {exc}')"]
# Exec form: the proxy is PID 1 and receives SIGTERM itself (uvicorn and the Lambda runtime
# both shut down gracefully on it). `run` writes its logs as JSON, one record per line, in both
# modes (S3_PROXY_LOG_FORMAT=text for text; on Lambda its advanced logging controls apply).
ENTRYPOINT ["s3-stream-proxy", "run"]
