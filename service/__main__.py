"""``python -m service``: the command line, or the Lambda runtime when run by Lambda."""

from __future__ import annotations

import os
import sys

from service.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv and os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        argv = ["lambda"]
    sys.exit(main(argv))
