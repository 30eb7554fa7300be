"""The Lambda runtime's INIT, phase by phase: run by ``benchmarks/suite.py`` next to each cold start.

It does what ``python -m service lambda`` does before its first ``GET /next``, in the same
order and with the same environment, timing each step on ``time.monotonic()`` (one clock for
every process of the machine, so the suite can subtract the moment it spawned this one), and
prints one JSON object of the moments in seconds:

* ``started``: the first statement ran (the interpreter and ``site`` are up);
* ``imported``: the runtime's modules are imported (``service.lambda_bridge.entry`` and
  ``service.app`` with everything they import);
* ``configured``: ``Settings.from_env()`` has read the ``S3_PROXY_*`` variables;
* ``built``: ``create_app`` has built the app (routes, middleware, metrics);
* ``ready``: the ASGI lifespan startup is done: the S3 client is created and warmed
  (:mod:`service.warmup`), which is what the runtime does before it asks for ``/next``.

No request is sent to S3 or to a Runtime API.
"""

import time

STARTED = time.monotonic()

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import service.app  # noqa: E402
import service.lambda_bridge.entry  # noqa: E402
from service.lambda_bridge.lifespan import Lifespan  # noqa: E402
from service.settings import Settings  # noqa: E402


async def _start_up(lifespan: Lifespan) -> float:
    await lifespan.startup()
    ready = time.monotonic()
    await lifespan.shutdown()
    return ready


def main() -> None:
    """Run the phases once and print their moments."""
    imported = time.monotonic()
    settings = Settings.from_env(os.environ)
    configured = time.monotonic()
    app = service.app.create_app(settings, door="lambda")
    built = time.monotonic()
    ready = asyncio.run(_start_up(Lifespan(app)))
    moments = {"started": STARTED, "imported": imported, "configured": configured, "built": built, "ready": ready}
    print(json.dumps(moments))


if __name__ == "__main__":
    main()
