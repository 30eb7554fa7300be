"""The rules of RequestFacts: the outcome and status of each way a request ends, and the
functions deep code and servers call, which do nothing outside a request."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator

import pytest

from service import requestfacts
from service.lambda_bridge.entry import configure_lambda_logging
from service.requestfacts import RequestFacts, active, mark_deadline_cut, mark_replaced, note_resume, note_s3_answer


def _facts(method: str = "GET") -> RequestFacts:
    return RequestFacts("rid", method, "a.bin")


def _start(facts: RequestFacts, status: int, **headers: str) -> None:
    encoded = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    facts.took({"type": "http.response.start", "status": status, "headers": encoded})


def _body(facts: RequestFacts, body: bytes, more: bool) -> None:
    facts.took({"type": "http.response.body", "body": body, "more_body": more})


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "complete"),
        (206, "complete"),
        (204, "complete"),
        (304, "complete"),
        (302, "redirected"),
        (308, "redirected"),
        (400, "rejected"),
        (404, "rejected"),
        (416, "rejected"),
        (502, "rejected"),
    ],
)
def test_a_whole_answer_ends_by_its_status(status: int, outcome: str) -> None:
    facts = _facts()
    _start(facts, status, content_length="3")
    _body(facts, b"abc", more=False)
    assert (facts.outcome(), facts.answered_status, facts.bytes_sent) == (outcome, status, 3)
    assert facts.bytes_planned == (0 if status in {204, 304} else 3)


def test_head_plans_no_body_whatever_content_length_says() -> None:
    facts = _facts("HEAD")
    _start(facts, 200, content_length="5000")
    assert facts.bytes_planned == 0


def test_an_answer_without_a_length_plans_none() -> None:
    facts = _facts()
    _start(facts, 200)
    assert facts.bytes_planned is None


def test_the_first_body_byte_or_the_end_of_an_empty_body_is_the_clients_first_byte() -> None:
    facts = _facts()
    _start(facts, 200, content_length="1")
    _body(facts, b"", more=True)
    assert facts.client_first_byte is None
    _body(facts, b"x", more=True)
    first = facts.client_first_byte
    assert first is not None and first >= 0
    _body(facts, b"", more=False)
    assert facts.client_first_byte == first
    empty = _facts()
    _start(empty, 200, content_length="0")
    _body(empty, b"", more=False)
    assert empty.client_first_byte is not None


def test_a_failure_before_the_answer_is_a_500_rejected() -> None:
    facts = _facts()
    facts.failure = RuntimeError("a bug")
    assert (facts.outcome(), facts.answered_status) == ("rejected", 500)


def test_a_deadline_before_the_answer_is_a_504_cut() -> None:
    facts = _facts()
    mark_deadline_cut({requestfacts.SCOPE_KEY: facts})
    assert (facts.outcome(), facts.answered_status) == ("deadline_cut", 504)


def test_a_deadline_mid_body_counts_what_the_server_still_took() -> None:
    facts = _facts()
    _start(facts, 200, content_length="100")
    _body(facts, b"x" * 10, more=True)
    mark_deadline_cut({requestfacts.SCOPE_KEY: facts}, accepted_bytes=7)
    assert (facts.outcome(), facts.answered_status, facts.bytes_sent) == ("deadline_cut", 200, 17)


def test_a_server_that_answers_in_place_of_the_app_rejects() -> None:
    facts = _facts()
    _start(facts, 200, content_length="100")
    mark_replaced({requestfacts.SCOPE_KEY: facts}, 413)
    facts.failure = asyncio.CancelledError()
    assert (facts.outcome(), facts.answered_status) == ("rejected", 413)


@pytest.mark.parametrize(
    ("client_gone", "failure", "outcome"),
    [
        (True, None, "client_aborted"),
        (True, OSError("reset"), "client_aborted"),
        (False, asyncio.CancelledError(), "deadline_cut"),
        (False, RuntimeError("S3 broke"), "upstream_failed"),
        (False, None, "upstream_failed"),
    ],
)
def test_an_answer_that_stops_short(client_gone: bool, failure: BaseException | None, outcome: str) -> None:
    facts = _facts()
    _start(facts, 200, content_length="100")
    _body(facts, b"x", more=True)
    facts.client_gone, facts.failure = client_gone, failure
    assert (facts.outcome(), facts.answered_status) == (outcome, 200)


def test_the_note_functions_reach_the_current_request_and_do_nothing_outside_one() -> None:
    note_resume()
    note_s3_answer(0.5)
    mark_deadline_cut({})
    mark_replaced({}, 413)
    facts = _facts()
    with active(facts):
        assert requestfacts.current() is facts
        note_s3_answer(0.25)
        note_s3_answer(0.75)
        note_resume()
    assert requestfacts.current() is None
    assert (facts.s3_first_byte, facts.s3_requests, facts.resumes) == (0.25, 2, 1)


@pytest.mark.anyio
async def test_tasks_the_request_starts_add_to_the_same_facts() -> None:
    facts = _facts()
    with active(facts):
        await asyncio.ensure_future(asyncio.sleep(0, result=None))
        await asyncio.ensure_future(_resume_later())
    assert facts.resumes == 1


async def _resume_later() -> None:
    note_resume()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restored_logging")
def test_on_lambda_an_uncaught_exception_is_a_critical_record(caplog: pytest.LogCaptureFixture) -> None:
    configure_lambda_logging({})
    try:
        raise RuntimeError("it broke")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    (record,) = [r for r in caplog.records if r.name == "service.lambda_bridge"]
    assert (record.levelno, record.getMessage()) == (logging.CRITICAL, "the runtime failed: it broke")
    assert record.exc_info is not None
