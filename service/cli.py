"""The ``s3-stream-proxy`` command line: ``serve``, ``demo``, ``lambda`` and ``function-url``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from service.settings import ConfigError, Settings

PROG = "s3-stream-proxy"
EXIT_CONFIG = 2
"""Exit status for invalid configuration, as for a usage error."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging()
    try:
        status: int = args.run(args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Stream objects from Amazon S3 to HTTP clients. "
        "Configuration comes from S3_PROXY_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the proxy under uvicorn")
    _add_listen_arguments(serve, default_host="127.0.0.1")
    serve.set_defaults(run=_serve)
    run = commands.add_parser(
        "run",
        help="what the container image runs: the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set, "
        "otherwise serve on --host (default 0.0.0.0) and $PORT (default 8080)",
    )
    _add_listen_arguments(run, default_host="0.0.0.0")  # a container must listen on all interfaces
    run.set_defaults(run=_run)
    lambda_ = commands.add_parser(
        "lambda", help="run as a Lambda custom runtime (needs AWS_LAMBDA_RUNTIME_API), streaming responses"
    )
    lambda_.set_defaults(run=_lambda)
    function_url = commands.add_parser(
        "function-url",
        help="run a local Lambda Function URL emulator that starts the runtime as a child process",
    )
    _configure_function_url(function_url)
    demo = commands.add_parser("demo", help="run the proxy on an embedded S3 with sample files")
    _add_listen_arguments(demo, default_host="127.0.0.1")
    demo.add_argument(
        "--function-url",
        action="store_true",
        help="serve through the Lambda path instead of uvicorn: the local Function URL emulator "
        "with the Lambda runtime as its child process",
    )
    demo.add_argument(
        "--limits",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --function-url, emulate Lambda's limits: each response 6 MiB at full speed, "
        "then 2 MiB/s, cut off after 200 MiB (default: on)",
    )
    demo.set_defaults(run=_demo)
    return parser


def _add_listen_arguments(parser: argparse.ArgumentParser, default_host: str) -> None:
    parser.add_argument("--host", default=default_host, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=None, help="TCP port to bind (default: $PORT or 8080)")


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0-65535, got {text!r}")
    return int(text)


def _listen_port(args: argparse.Namespace) -> int:
    """``--port``, else ``$PORT`` (what container platforms set), else 8080.

    Raises:
        ConfigError: ``$PORT`` is not a TCP port.
    """
    if args.port is not None:
        return int(args.port)
    raw = os.environ.get("PORT", "").strip() or "8080"
    try:
        return _port(raw)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"PORT: {exc}") from None


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = Settings.from_env()
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=_listen_port(args),
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    return 0


def _configure_function_url(parser: argparse.ArgumentParser) -> None:
    from service.function_url.cli import configure_parser, run

    configure_parser(parser)
    parser.set_defaults(run=run)


def _lambda(args: argparse.Namespace) -> int:
    from service.lambda_bridge.entry import main as lambda_main

    return lambda_main()


def _run(args: argparse.Namespace) -> int:
    if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        return _lambda(args)
    return _serve(args)


def _demo(args: argparse.Namespace) -> int:
    from service.demo.lambda_path import LambdaPath
    from service.demo.run import run_demo

    if not args.function_url:
        if args.limits is not None:
            print(f"{PROG} demo: error: --limits and --no-limits apply only with --function-url", file=sys.stderr)
            return EXIT_CONFIG
        return run_demo(args.host, _listen_port(args))
    lambda_path = LambdaPath(limits=None) if args.limits is False else LambdaPath()
    return run_demo(args.host, _listen_port(args), lambda_path=lambda_path)
