"""The ``demo`` command: the proxy in front of an embedded S3 seeded with sample objects,
served by uvicorn or, with ``--function-url``, through the Lambda path.

Modules, each with one job:

- :mod:`s3proxy_dev.demo.pdf`, :mod:`s3proxy_dev.demo.png`, :mod:`s3proxy_dev.demo.wav`,
  :mod:`s3proxy_dev.demo.pseudorandom`: generate the sample files, deterministically;
- :mod:`s3proxy_dev.demo.samples`: the list of sample objects (key, content type, size, SHA-256);
- :mod:`s3proxy_dev.demo.embedded_s3`: moto's S3 on loopback, and seeding a bucket;
- :mod:`s3proxy_dev.demo.banner`: the text that tells a newcomer what to try;
- :mod:`s3proxy_dev.demo.listen`: binding the listening socket, with a readable error;
- :mod:`s3proxy_dev.demo.uvicorn_path`: serving the proxy under uvicorn;
- :mod:`s3proxy_dev.demo.lambda_path`: serving it as our Lambda runtime behind the local Function URL emulator;
- :mod:`s3proxy_dev.demo.signals`: Ctrl-C and SIGTERM stop the demo cleanly;
- :mod:`s3proxy_dev.demo.errors`: the error a server raises when it cannot start;
- :mod:`s3proxy_dev.demo.cli`: the command line, ``s3-stream-proxy demo``;
- :mod:`s3proxy_dev.demo.run`: :func:`~s3proxy_dev.demo.run.run_demo`, which ties them together;
- :mod:`s3proxy_dev.demo.manifest`: ``python -m s3proxy_dev.demo.manifest`` prints the checksums.
"""

from __future__ import annotations
