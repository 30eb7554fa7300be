"""Our Lambda custom runtime: serves an ASGI app through the Lambda Runtime API.

Responses stream through a Function URL in RESPONSE_STREAM mode, or are posted as one JSON
result in BUFFERED mode.  Start it with :func:`main` (``python -m service lambda``), or serve
any ASGI app with :func:`serve`.
"""

from __future__ import annotations

from service.lambda_bridge.entry import main, serve
from service.lambda_bridge.runtime import BridgeOptions

__all__ = ["BridgeOptions", "main", "serve"]
