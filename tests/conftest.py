"""Shared fixtures: two S3 implementations, a fault-injecting relay, and the proxy under uvicorn.

Also the markers of the test categories ``make test-fast`` leaves out, set here by path,
fixture or parameter so that new tests fall into their category without being marked by hand.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import boto3
import hypothesis
import pytest

from service.settings import Settings
from tests.support.backends import CREDENTIALS, Backend, moto_backend, s3rver_backend
from tests.support.relay import Relay, relay_to
from tests.support.servers import serve_function_url, serve_proxy

# Hypothesis's per-example deadline (200 ms by default) is a timing assertion: on a loaded
# machine it fails properties that hold. Speed is the benchmarks' business, not the tests'.
hypothesis.settings.register_profile("untimed", deadline=None)
hypothesis.settings.load_profile("untimed")

os.environ.update(CREDENTIALS)
for _variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_variable, None)


TESTS = Path(__file__).resolve().parent

MARKED_BY_PATH = {
    "browser": ("browser/",),
    "deploy": ("test_deploy_",),
    "demo": ("test_demo_command.py",),
    # benchmarks/faults.py: a Lambda runtime process per row; benchmarks/suite.py --quick: the
    # runtimes behind a stub, the emulator, nginx, moto and s3rver
    "lambda_door": ("test_faults.py", "test_bench_smoke.py"),
}
"""Marker -> starts of test file paths (relative to ``tests/``) that get it."""

MARKED_BY_FIXTURE = {"oracle": {"node_ric_command", "python_ric_command"}}
"""Marker -> fixtures whose users (direct or through other fixtures) get it."""

MARKED_BY_PARAMETER = {"s3rver": "s3rver", "lambda_door": "function-url"}
"""Marker -> parameter value: a test parametrized with it (``backend``, ``transport``, ...) gets it."""


MARKED_BY_NODE = {"timing": ("tests/test_ranges.py::test_64_kib_header_is_answered_in_milliseconds",)}
"""Marker -> starts of node ids that get it."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker, nodes in MARKED_BY_NODE.items():
            if item.nodeid.startswith(nodes):
                item.add_marker(marker)
        path = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else ""
        for marker, starts in MARKED_BY_PATH.items():
            if path.startswith(starts):
                item.add_marker(marker)
        fixtures = set(getattr(item, "fixturenames", ()))
        for marker, users_of in MARKED_BY_FIXTURE.items():
            if fixtures & users_of:
                item.add_marker(marker)
        callspec = getattr(item, "callspec", None)
        values = list(callspec.params.values()) if callspec is not None else []
        for marker, value in MARKED_BY_PARAMETER.items():
            if any(isinstance(param, str) and param == value for param in values):
                item.add_marker(marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Run ``timing`` tests with coverage.py's tracer paused (``make test``): it would slow the
    very code they time. Their lines are not counted; other tests run the same code."""
    import coverage

    measuring = coverage.Coverage.current() if item.get_closest_marker("timing") else None
    if measuring is None:
        return (yield)
    measuring.stop()
    try:
        return (yield)
    finally:
        measuring.start()


BACKENDS: dict[str, Callable[[], AbstractContextManager[Backend]]] = {"moto": moto_backend, "s3rver": s3rver_backend}


class _Backends(dict[str, Backend]):
    """The S3 implementations by name, each started the first time a test asks for it."""

    def __init__(self, stack: ExitStack) -> None:
        super().__init__()
        self._stack = stack

    def __missing__(self, name: str) -> Backend:
        backend = self[name] = self._stack.enter_context(BACKENDS[name]())
        return backend


@pytest.fixture(scope="session")
def backends() -> Iterator[dict[str, Backend]]:
    """moto and s3rver; a run that selects no s3rver test (``-m "not s3rver"``) never starts it."""
    with ExitStack() as stack:
        yield _Backends(stack)


@pytest.fixture(scope="module")
def moto(backends: dict[str, Backend]) -> Backend:
    """moto's S3 server, for modules that seed their own buckets and start their own processes."""
    return backends["moto"]


@pytest.fixture(params=["moto", "s3rver"])
def backend(request: pytest.FixtureRequest, backends: dict[str, Backend]) -> Backend:
    """Each S3 test runs once against moto and once against s3rver."""
    return backends[request.param]


@pytest.fixture
def s3(backend: Backend) -> object:
    """A plain boto3 client on the backend, for seeding objects."""
    return boto3.client("s3", endpoint_url=backend.endpoint_url, region_name="us-east-1")


@pytest.fixture
def bucket(s3: object) -> str:
    """A fresh, empty bucket for this test."""
    name = f"test-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


@pytest.fixture
def relay(backend: Backend) -> Iterator[Relay]:
    """A counting, fault-injecting relay in front of the backend."""
    with relay_to(backend.endpoint_url) as running:
        yield running


@pytest.fixture(scope="module")
def moto_relay(moto: Backend) -> Iterator[Relay]:
    """A relay in front of moto shared by one module's tests, for modules whose servers are
    module-scoped; :func:`_moto_relay_without_fault` clears its fault around each test."""
    with relay_to(moto.endpoint_url) as running:
        yield running


@pytest.fixture(autouse=True)
def _moto_relay_without_fault(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that uses :func:`moto_relay` starts and ends with no fault on it."""
    if "moto_relay" not in request.fixturenames:
        yield
        return
    shared: Relay = request.getfixturevalue("moto_relay")
    shared.fault = None
    yield
    shared.fault = None


ProxyFactory = Callable[..., str]


@pytest.fixture
def start_proxy(bucket: str, relay: Relay) -> Iterator[ProxyFactory]:
    """Start the proxy (real uvicorn on loopback) for this test's bucket, reaching S3 via the relay.

    Keyword arguments override :class:`Settings` fields; returns the base URL.
    """
    with ExitStack() as stack:

        def start(**overrides: object) -> str:
            fields: dict[str, object] = {"bucket": bucket, "endpoint_url": relay.url, "region": "us-east-1"}
            fields.update(overrides)
            return stack.enter_context(serve_proxy(Settings(**fields)))  # type: ignore[arg-type]

        yield start


@pytest.fixture
def proxy(start_proxy: ProxyFactory) -> str:
    """The proxy with default settings."""
    return start_proxy()


TRANSPORTS = {"uvicorn": serve_proxy, "function-url": serve_function_url}


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> str:
    """The door the HTTP tests go through: uvicorn, or the Lambda runtime behind a Function URL."""
    return str(request.param)


@pytest.fixture
def start_target(bucket: str, relay: Relay, transport: str) -> Iterator[ProxyFactory]:
    """Like ``start_proxy``, through each transport in turn, so the Lambda path cannot drift."""
    with ExitStack() as stack:

        def start(**overrides: object) -> str:
            fields: dict[str, object] = {"bucket": bucket, "endpoint_url": relay.url, "region": "us-east-1"}
            fields.update(overrides)
            return stack.enter_context(TRANSPORTS[transport](Settings(**fields)))  # type: ignore[arg-type]

        yield start


@pytest.fixture
def target(start_target: ProxyFactory) -> str:
    """The proxy with default settings, through each transport in turn."""
    return start_target()
