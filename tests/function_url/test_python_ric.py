"""Conformance with AWS's Python runtime interface client (PyPI awslambdaric).

The client posts plain buffered results and ``/error``; with the URL in BUFFERED mode the
emulator must decode the payload-2.0 response object exactly as the handler meant it.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from s3proxy_dev.function_url import FunctionIdentity, FunctionUrlEmulator
from tests.function_url.client import assert_matches, fetch
from tests.function_url.conftest import START_DEADLINE, OracleRuntime, running
from tests.oracles.cases import CASES, OracleCase, OracleRequest, cases_for

pytestmark = pytest.mark.anyio

BUFFERED_CASES = cases_for("buffered")


@pytest.mark.parametrize("case", BUFFERED_CASES, ids=[case.name for case in BUFFERED_CASES])
async def test_python_client_buffered_results_are_decoded_as_meant(
    case: OracleCase, python_runtime: OracleRuntime
) -> None:
    async with running(python_runtime.config(invoke_mode="BUFFERED")) as emulator:
        observed = await fetch(emulator.url, case.request)
    assert_matches(observed, case.expected)


async def test_buffered_result_on_a_streaming_url_arrives_as_the_raw_envelope(python_runtime: OracleRuntime) -> None:
    # A RESPONSE_STREAM URL does not decode a buffered result: the JSON envelope is the body.
    case = next(case for case in CASES if case.name == "cookies")
    async with running(python_runtime.config(invoke_mode="RESPONSE_STREAM")) as emulator:
        observed = await fetch(emulator.url, case.request)
    assert observed.status == 200
    assert observed.value("content-type") == "application/json"
    envelope = json.loads(observed.body)
    assert envelope["statusCode"] == 201
    assert envelope["cookies"] == list(case.script.cookies)
    assert observed.values("set-cookie") == []


async def test_init_error_is_reported_and_fails_the_request_with_502(python_runtime: OracleRuntime) -> None:
    # awslambdaric takes the handler from its command line, Lambda's from _HANDLER: set both.
    handler = "missing_module.handler"
    command = (*python_runtime.command[:-1], handler)
    config = python_runtime.config(invoke_mode="BUFFERED", command=command, function=FunctionIdentity(handler=handler))
    async with FunctionUrlEmulator(config) as emulator:
        async with asyncio.timeout(START_DEADLINE):
            failure = await emulator.wait_ready()
        observed = await fetch(emulator.url, OracleRequest(target="/case/success"))
    assert failure is not None
    assert failure.error_type == "Runtime.ImportModuleError"
    assert "missing_module" in failure.message
    assert (observed.status, observed.body) == (502, b"Internal Server Error")
