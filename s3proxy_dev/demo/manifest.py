"""``python -m s3proxy_dev.demo.manifest``: print the SHA-256 of every demo sample.

The output is in ``sha256sum`` format (hash, two spaces, key), so downloads saved
under their keys can be checked with ``sha256sum -c``::

    python -m s3proxy_dev.demo.manifest > SHA256SUMS
    curl -s --create-dirs -o docs/handbook.pdf http://127.0.0.1:8080/docs/handbook.pdf
    sha256sum -c --ignore-missing SHA256SUMS
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from s3proxy_dev.demo.samples import DEFAULT_BINARY_SIZE, demo_samples, sample_manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Print one ``<sha256>  <key>`` line per sample; return the exit status.

    Takes about two seconds with the default binary: it generates and hashes 256 MiB.
    A bad ``--binary-size`` is a usage error (message on stderr, exit status 2).
    """
    parser = argparse.ArgumentParser(
        prog="python -m s3proxy_dev.demo.manifest",
        description="Print the SHA-256 of each object the demo seeds, in sha256sum format.",
    )
    parser.add_argument(
        "--binary-size",
        type=_byte_count,
        default=DEFAULT_BINARY_SIZE,
        metavar="BYTES",
        help="size of the pseudo-random binary sample (default: %(default)s, as `s3-stream-proxy demo` seeds)",
    )
    args = parser.parse_args(argv)
    for info in sample_manifest(demo_samples(args.binary_size)):
        sys.stdout.write(f"{info.sha256}  {info.key}\n")
    return 0


def _byte_count(raw: str) -> int:
    if not raw.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative number of bytes, got {raw!r}")
    return int(raw)


if __name__ == "__main__":
    sys.exit(main())
