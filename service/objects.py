"""The object endpoint: ``GET``, ``HEAD`` and ``OPTIONS`` on ``/{key}`` (RFC 9110 §9.3, §13, §14).

How many S3 requests an answer costs:

* plain ``GET``, or ``GET`` with one byte range and no ``If-None-Match`` /
  ``If-Modified-Since``: one ``GetObject`` (the range and any ``If-Match`` /
  ``If-Unmodified-Since`` / ``If-Range`` go to S3 as its own parameters);
* ``HEAD``: one ``HeadObject``;
* revalidation (``If-None-Match`` / ``If-Modified-Since``): one ``HeadObject``, then a
  ``GetObject`` only when the object changed. S3's own 304 is not used: it omits
  representation metadata a 304 must repeat (``Cache-Control``, ``Expires``; moto's even
  omits ``ETag``), and S3 compares entity-tags strongly where RFC 9110 §13.1.2 asks
  for weak comparison;
* several ranges: one ``HeadObject`` plus one ranged ``GetObject`` per part.

An answer larger than ``S3_PROXY_REDIRECT_OVER_BYTES`` is a 307 to S3 instead (see
:mod:`service.redirect` for what that costs).

Every ``GetObject`` after the first is pinned to the first answer's ETag with S3's
``IfMatch``, so a concurrent overwrite can never splice two versions into one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from service import bodies, delivery, redirect
from service.delivery import ResponseSettings, View
from service.errors import PreconditionFailed, RangeNotSatisfiable, ServiceUnavailable
from service.http.dates import parse_http_date
from service.http.preconditions import IfRange, Outcome, Preconditions, Verdict, decide, s3_conditions
from service.http.ranges import RangeDecision, RangeOutcome, parse_range, s3_single_range
from service.keys import object_key
from service.s3 import GetResult, ObjectMeta, ObjectStore, ReadParams

ALLOW = "GET, HEAD, OPTIONS"
_IGNORED = RangeDecision(RangeOutcome.IGNORE)


@dataclass(frozen=True)
class ObjectRequest:
    """What one request asks of one object.

    Attributes:
        method: ``GET`` or ``HEAD``.
        conditions: the parsed precondition fields (RFC 9110 §13.1).
        range_header: the ``Range`` field value for GET, else None (RFC 9110 §14.2
            ignores it for other methods).
        view: how the representation is presented (key, response settings, download name).
    """

    method: str
    conditions: Preconditions
    range_header: str | None
    view: View

    @property
    def key(self) -> str:
        """The S3 key."""
        return self.view.key


class State(TypedDict):
    """What the endpoint needs from its process, made once by the app's lifespan.

    The lifespan yields it; the server (uvicorn, or the Lambda bridge) copies it into
    every request's scope, where ``request.state`` reads it (ASGI lifespan state).

    Attributes:
        store: the S3 bucket's objects, through the shared client.
        key_prefix: prepended to every key named by a path.
        responses: the settings that shape every answer.
    """

    store: ObjectStore
    key_prefix: str
    responses: ResponseSettings


async def endpoint(request: Request[State]) -> Response:
    """Answer one request for an object.

    Raises:
        ProxyError: a subclass for every non-success answer (bad key, failed
            precondition, unsatisfiable range, S3 errors).
    """
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"allow": ALLOW})
    store = request.state["store"]
    view = View(
        key=object_key(request.scope, request.state["key_prefix"]),
        settings=request.state["responses"],
        download=request.query_params.get("download"),
    )
    wanted = ObjectRequest(
        method=request.method,
        conditions=Preconditions.from_headers(_joined(request.headers, _CONDITIONAL)),
        range_header=request.headers.get("range") if request.method == "GET" else None,
        view=view,
    )
    if wanted.method == "HEAD":
        return await _head(store, wanted)
    if _one_request_suffices(wanted):
        return await _get_at_once(store, wanted)
    return await _get_after_head(store, wanted, retries=1)


_CONDITIONAL = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "range")


def _joined(headers: Headers, names: tuple[str, ...]) -> dict[str, str]:
    """Fields sent on several lines, joined with ", " as one list (RFC 9110 §5.3)."""
    return {name: ", ".join(headers.getlist(name)) for name in names if name in headers}


async def _head(store: ObjectStore, wanted: ObjectRequest) -> Response:
    meta = await store.head(wanted.key)
    verdict = _verdict(wanted, meta).verdict
    if verdict is Verdict.NOT_MODIFIED:
        return delivery.not_modified(meta, wanted.view)
    if verdict is Verdict.PRECONDITION_FAILED:
        raise PreconditionFailed("a precondition failed")
    return delivery.head(meta, wanted.view)


def _one_request_suffices(wanted: ObjectRequest) -> bool:
    conditions = wanted.conditions
    if conditions.if_none_match is not None or conditions.if_modified_since is not None:
        return False
    if wanted.range_header is None:
        return True
    if s3_single_range(wanted.range_header) is None:
        return False
    # If-Range travels as S3's IfMatch / IfUnmodifiedSince, which the client's own
    # If-Match / If-Unmodified-Since would then collide with.
    client_412 = conditions.if_match is not None or conditions.if_unmodified_since is not None
    return conditions.if_range is None or not client_412


async def _get_at_once(store: ObjectStore, wanted: ObjectRequest) -> Response:
    """One ``GetObject`` carrying the range and the preconditions S3 can evaluate itself."""
    delegated = s3_conditions("GET", wanted.conditions)
    params: ReadParams = delegated.params() if delegated else {}
    spec = s3_single_range(wanted.range_header) if wanted.range_header else None
    if_range = _if_range_params(wanted.conditions.if_range) if spec else {}
    if spec and if_range is not None:
        params.update(if_range)
        params["Range"] = spec
    try:
        result = await store.get(wanted.key, **params)
    except RangeNotSatisfiable:
        return await _get_after_head(store, wanted, retries=1)
    except PreconditionFailed:
        if not if_range:
            raise
        # If-Range did not hold (RFC 9110 §13.1.5): the whole object, with 200.
        result = await store.get(wanted.key, **(delegated.params() if delegated else {}))
    return await _settle(store, wanted, result)


def _if_range_params(if_range: IfRange | None) -> ReadParams | None:
    """S3 parameters that make a ranged GetObject fail with 412 unless If-Range holds.

    Returns ``{}`` without If-Range, and None when If-Range can never hold (a weak or
    unusable validator), so the range is not asked for at all. A date only narrows the
    check to "not modified since"; :func:`_settle` then demands exact equality.
    """
    if if_range is None:
        return {}
    if if_range.tag is not None:
        return None if if_range.tag.weak else {"IfMatch": str(if_range.tag)}
    return None if if_range.date is None else {"IfUnmodifiedSince": if_range.date}


async def _settle(store: ObjectStore, wanted: ObjectRequest, result: GetResult) -> Response:
    """Answer from an open ``GetObject`` result, or close it and fetch what is really needed."""
    meta = result.meta
    outcome = _verdict(wanted, meta)
    if outcome.verdict is not Verdict.PROCEED:
        result.body.close()
        raise PreconditionFailed("a precondition failed")
    decision = _range_decision(wanted, meta, outcome.range_applies)
    if decision.outcome is RangeOutcome.IGNORE and meta.content_range is None:  # the whole object
        return await _unless_redirected(store, wanted, result, meta.size) or delivery.whole(store, result, wanted.view)
    if decision.outcome is RangeOutcome.SATISFIABLE and not decision.is_multipart:
        (wanted_range,) = decision.ranges
        if bodies.covers(meta, wanted_range):
            moved = await _unless_redirected(store, wanted, result, wanted_range.length)
            return moved or delivery.partial(store, result, wanted_range, wanted.view)
    result.body.close()
    return await _deliver(store, wanted, meta, decision)


async def _unless_redirected(
    store: ObjectStore, wanted: ObjectRequest, result: GetResult, length: int
) -> Response | None:
    """The redirect for an answer of ``length`` body bytes from the open ``result``, which is
    then closed; None (``result`` left open) when the answer is streamed."""
    moved = await _redirect(store, wanted, result.meta, length)
    if moved is not None:
        result.body.close()
    return moved


async def _redirect(store: ObjectStore, wanted: ObjectRequest, meta: ObjectMeta, length: int) -> Response | None:
    """The 307 to S3 when an answer of ``length`` body bytes is too large to stream, else None."""
    policy = wanted.view.settings.redirect
    if not policy.applies(length):
        return None
    return await redirect.to_s3(store, meta, wanted.key, wanted.view.headers(meta), policy.expires)


async def _get_after_head(store: ObjectStore, wanted: ObjectRequest, retries: int) -> Response:
    """``HeadObject`` for size and validators, decide locally, then pinned ``GetObject`` calls."""
    meta = await store.head(wanted.key)
    outcome = _verdict(wanted, meta)
    if outcome.verdict is Verdict.NOT_MODIFIED:
        return delivery.not_modified(meta, wanted.view)
    if outcome.verdict is Verdict.PRECONDITION_FAILED:
        raise PreconditionFailed("a precondition failed")
    decision = _range_decision(wanted, meta, outcome.range_applies)
    try:
        return await _deliver(store, wanted, meta, decision)
    except PreconditionFailed:
        # Our own IfMatch pin failed: the object was overwritten since HeadObject.
        if retries:
            return await _get_after_head(store, wanted, retries - 1)
        raise ServiceUnavailable("the object kept changing while it was read; retry") from None


async def _deliver(store: ObjectStore, wanted: ObjectRequest, meta: ObjectMeta, decision: RangeDecision) -> Response:
    """Send what ``decision`` says for the representation ``meta`` describes, pinned to its ETag."""
    pin: ReadParams = {"IfMatch": meta.etag} if meta.etag else {}
    if decision.outcome is RangeOutcome.UNSATISFIABLE:
        raise delivery.unsatisfiable(meta)
    length = sum(part.length for part in decision.ranges) if decision.ranges else meta.size
    moved = await _redirect(store, wanted, meta, length)
    if moved is not None:
        return moved
    if decision.outcome is RangeOutcome.IGNORE:
        return delivery.whole(store, await store.get(wanted.key, **pin), wanted.view)
    if decision.is_multipart:
        return delivery.byteranges(store, meta, decision.ranges, wanted.view, pin)
    (byte_range,) = decision.ranges
    result = await store.get(wanted.key, **delivery.pin_range(pin, byte_range))
    return delivery.partial(store, result, byte_range, wanted.view)


def _verdict(wanted: ObjectRequest, meta: ObjectMeta) -> Outcome:
    last_modified = parse_http_date(meta.last_modified) if meta.last_modified else None
    return decide(wanted.method, wanted.conditions, meta.etag, last_modified)


def _range_decision(wanted: ObjectRequest, meta: ObjectMeta, applies: bool) -> RangeDecision:
    if not applies or wanted.range_header is None:
        return _IGNORED
    return parse_range(wanted.range_header, meta.size, max_ranges=wanted.view.settings.max_ranges)
