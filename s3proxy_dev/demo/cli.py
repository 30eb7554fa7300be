"""``s3-stream-proxy demo``: parse the demo's options and run it (:func:`~s3proxy_dev.demo.run.run_demo`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from s3proxy_dev.demo.lambda_path import LambdaPath
from s3proxy_dev.demo.run import run_demo
from service.cli import EXIT_CONFIG, add_listen_arguments, listen_port
from service.settings import ConfigError

PROG = "s3-stream-proxy demo"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (without the program name) and run the demo; return the exit status.

    Exit status 2 for bad options (``--limits`` without ``--function-url``, an invalid ``$PORT``).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.function_url and args.limits is not None:
        print(f"{PROG}: error: --limits and --no-limits apply only with --function-url", file=sys.stderr)
        return EXIT_CONFIG
    if not args.function_url and args.concurrency is not None:
        print(f"{PROG}: error: --concurrency applies only with --function-url", file=sys.stderr)
        return EXIT_CONFIG
    try:
        port = listen_port(args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not args.function_url:
        return run_demo(args.host, port)
    concurrency = args.concurrency or 1
    if args.limits is False:
        lambda_path = LambdaPath(limits=None, concurrency=concurrency)
    else:
        lambda_path = LambdaPath(concurrency=concurrency)
    return run_demo(args.host, port, lambda_path=lambda_path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Run the proxy on an embedded S3 with sample files.")
    add_listen_arguments(parser, default_host="127.0.0.1")
    parser.add_argument(
        "--function-url",
        action="store_true",
        help="serve through the Lambda path instead of uvicorn: the local Function URL emulator "
        "with the Lambda runtime as its child process",
    )
    parser.add_argument(
        "--limits",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --function-url, emulate Lambda's limits: each response 6 MiB at full speed, "
        "then 2 MiB/s, cut off after 200 MiB (default: on)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive,
        default=None,
        help="with --function-url, invocations the runtime serves at once, as on Lambda Managed "
        "Instances (AWS_LAMBDA_MAX_CONCURRENCY; default: 1)",
    )
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
