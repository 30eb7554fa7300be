"""The ``s3-stream-proxy`` command line: ``serve``, ``run``, ``lambda`` and ``sign``.

``demo`` and ``function-url`` are developer tools from :mod:`s3proxy_dev`, imported only
when they run, so the deployed product never loads them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from service.settings import ConfigError, LogFormat, Settings, read_signing_secrets
from service.signing import Grant, Network, parse_methods, parse_network, signed_url

PROG = "s3-stream-proxy"
EXIT_CONFIG = 2
"""Exit status for invalid configuration, as for a usage error."""
EXIT_STARTUP = 3
"""Exit status when ``serve`` cannot start (port in use, lifespan failure), as uvicorn's own."""


_DEVELOPER_TOOLS = {
    "function-url": "run a local Lambda Function URL emulator that starts the runtime as a child process",
    "demo": "run the proxy on an embedded S3 with sample files (--function-url: through the Lambda path)",
}
"""Commands served by :mod:`s3proxy_dev`, which is installed with the project but never deployed."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.run is None:
        return _developer_tool(args.tool, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
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
    add_listen_arguments(serve, default_host="127.0.0.1")
    serve.set_defaults(run=_serve)
    run = commands.add_parser(
        "run",
        help="what the container image runs: the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set, "
        "otherwise serve on --host (default 0.0.0.0) and $PORT (default 8080)",
    )
    # A container must listen on all interfaces.
    add_listen_arguments(run, default_host="0.0.0.0")  # nosec B104
    run.set_defaults(run=_run)
    lambda_ = commands.add_parser(
        "lambda", help="run as a Lambda custom runtime (needs AWS_LAMBDA_RUNTIME_API), streaming responses"
    )
    lambda_.set_defaults(run=_lambda)
    _add_sign_command(commands)
    for name, summary in _DEVELOPER_TOOLS.items():
        # add_help=False: every option, --help included, goes to the tool's own parser.
        commands.add_parser(name, help=summary, add_help=False).set_defaults(run=None, tool=name)
    return parser


def _add_sign_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sign = commands.add_parser(
        "sign", help="print a signed link to KEY, valid for --expires seconds (needs S3_PROXY_SIGNING_SECRET)"
    )
    sign.add_argument("key", metavar="KEY", help="the object's key as in the URL path, without S3_PROXY_KEY_PREFIX")
    sign.add_argument("--expires", type=_seconds, required=True, help="seconds from now until the link expires")
    sign.add_argument("--base-url", required=True, help="the proxy's public URL, e.g. https://files.example.com")
    sign.add_argument("--methods", type=_methods, default=(), help="allow only these, e.g. GET (default: GET,HEAD)")
    sign.add_argument("--cidr", type=_network, default=None, help="allow only clients in this network")
    sign.set_defaults(run=_sign)


def add_listen_arguments(parser: argparse.ArgumentParser, default_host: str) -> None:
    """Add ``--host`` (default ``default_host``) and ``--port`` (see :func:`listen_port`) to ``parser``."""
    parser.add_argument("--host", default=default_host, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=None, help="TCP port to bind (default: $PORT or 8080)")


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0-65535, got {text!r}")
    return int(text)


def listen_port(args: argparse.Namespace) -> int:
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


def _configure_logging(settings: Settings, default_format: LogFormat) -> None:
    """Every record, uvicorn's included, in ``S3_PROXY_LOG_FORMAT`` (else ``default_format``)
    at ``S3_PROXY_LOG_LEVEL`` (else INFO); see :mod:`service.logformat`."""
    from service.accesslog import StreamBrokenFilter
    from service.logformat import configure, level_number

    configure(settings.log_format or default_format, level_number(settings.log_level or "INFO"))
    # A body that breaks mid-stream is the access record's to report, without a traceback.
    logging.getLogger("uvicorn.error").addFilter(StreamBrokenFilter())


def _serve(args: argparse.Namespace, default_format: LogFormat = "text") -> int:
    """``serve``: uvicorn, logging as text unless ``S3_PROXY_LOG_FORMAT`` says otherwise (the
    container's ``run`` passes JSON)."""
    import uvicorn

    from service.app import create_app
    from service.server import uvicorn_config

    settings = Settings.from_env()
    _configure_logging(settings, default_format)
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings, args.host, listen_port(args)))
    server.run()
    return 0 if server.started else EXIT_STARTUP


def _sign(args: argparse.Namespace) -> int:
    secrets = read_signing_secrets()
    if not secrets:
        raise ConfigError("S3_PROXY_SIGNING_SECRET: required to sign links, but not set")
    grant = Grant(args.key, int(time.time()) + args.expires, args.methods, args.cidr)
    try:
        print(signed_url(args.base_url, grant, secrets[0]))
    except ValueError as exc:
        print(f"{PROG} sign: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _seconds(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return int(text)


def _methods(text: str) -> tuple[str, ...]:
    try:
        return parse_methods(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {text!r}") from None


def _network(text: str) -> Network:
    try:
        return parse_network(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lambda(args: argparse.Namespace) -> int:
    from service.lambda_bridge.entry import main as lambda_main

    return lambda_main()


def _run(args: argparse.Namespace) -> int:
    if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        return _lambda(args)
    # A container's logs go to a collector: one JSON object per record.
    return _serve(args, default_format="json")


def _developer_tool(name: str, argv: Sequence[str]) -> int:
    """Run ``s3-stream-proxy function-url|demo`` from :mod:`s3proxy_dev`, imported only now.

    The deployed image and zip hold the product alone, so there the import fails and the
    command says so in one line (exit 2) instead of a traceback; so does an install without
    the tool's extra packages (moto for the demo).
    """
    try:
        if name == "demo":
            from s3proxy_dev.demo.cli import main as tool_main
        else:
            from s3proxy_dev.function_url.cli import main as tool_main
    except ModuleNotFoundError as exc:
        print(f"{PROG}: error: {_missing_tool(name, exc.name or '')}", file=sys.stderr)
        return EXIT_CONFIG
    return tool_main(argv)


def _missing_tool(name: str, module: str) -> str:
    package = module.split(".", maxsplit=1)[0]
    if package == "s3proxy_dev":
        return f"'{name}' is a developer tool, not part of this deployment; run it from a source checkout"
    return f"'{name}' needs the Python package {package!r}: pip install 's3-stream-proxy[demo]'"
