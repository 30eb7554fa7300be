"""The restore side of Lambda SnapStart.

With SnapStart, Lambda runs the Init phase when a version is published, snapshots the
initialized execution environment and later resumes new environments from that snapshot
(Lambda docs, "snapstart.html"). A runtime started that way sees
``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`` (docs "configuration-envvars.html"); once its
init is done it calls ``GET /runtime/restore/next``, which Lambda answers only after a restore,
then runs its after-restore work and goes on to ``/runtime/invocation/next``; a failure there
goes to ``POST /runtime/restore/error`` (docs "runtimes-api.html", "After restore" and "Restore
error", SnapStart only). AWS's Python runtime client does the same (awslambdaric
``bootstrap.on_init_complete``).

The after-restore work here is a fresh S3 client and connection pool: connections opened
before the snapshot are not guaranteed to survive it (docs "snapstart-uniqueness.html",
network connections), so the app's lifespan is shut down and started again.
"""

from __future__ import annotations

from collections.abc import Mapping

INITIALIZATION_TYPE_VARIABLE = "AWS_LAMBDA_INITIALIZATION_TYPE"
SNAP_START = "snap-start"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"
"""The error type of a failed after-restore step, as AWS's Python runtime client reports it."""


class RestoreFailed(Exception):
    """The work after a restore failed; it was reported to ``/runtime/restore/error``."""


def is_snap_start(environ: Mapping[str, str]) -> bool:
    """Whether this process was started by Lambda for a SnapStart snapshot."""
    return environ.get(INITIALIZATION_TYPE_VARIABLE) == SNAP_START
