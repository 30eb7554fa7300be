"""The ``demo`` command: the proxy in front of an embedded S3 seeded with sample objects,
served by uvicorn or, with ``--function-url``, through the Lambda path.

Modules, each with one job:

- :mod:`service.demo.pdf`, :mod:`service.demo.png`, :mod:`service.demo.wav`,
  :mod:`service.demo.pseudorandom`: generate the sample files, deterministically;
- :mod:`service.demo.samples`: the list of sample objects (key, content type, size, SHA-256);
- :mod:`service.demo.embedded_s3`: moto's S3 on loopback, and seeding a bucket;
- :mod:`service.demo.banner`: the text that tells a newcomer what to try;
- :mod:`service.demo.listen`: binding the listening socket, with a readable error;
- :mod:`service.demo.uvicorn_path`: serving the proxy under uvicorn;
- :mod:`service.demo.lambda_path`: serving it as our Lambda runtime behind the local Function URL emulator;
- :mod:`service.demo.signals`: Ctrl-C and SIGTERM stop the demo cleanly;
- :mod:`service.demo.errors`: the error a server raises when it cannot start;
- :mod:`service.demo.run`: :func:`~service.demo.run.run_demo`, which ties them together;
- :mod:`service.demo.manifest`: ``python -m service.demo.manifest`` prints the checksums.
"""

from __future__ import annotations
