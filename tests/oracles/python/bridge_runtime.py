"""Runs ``asgi_app.app`` under this project's own Lambda runtime (``service.lambda_bridge``)."""

from __future__ import annotations

import os
import sys

from asgi_app import app

from service.lambda_bridge.entry import serve
from service.lambda_bridge.runtime import BridgeOptions

if __name__ == "__main__":
    sys.exit(serve(lambda: (app, BridgeOptions()), os.environ.get("AWS_LAMBDA_RUNTIME_API", "")))
