"""``python -m s3proxy_dev.function_url``: the emulator without the project's main command line."""

from __future__ import annotations

import sys

from s3proxy_dev.function_url.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
