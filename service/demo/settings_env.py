"""Settings as environment variables: how the demo configures the Lambda runtime child process."""

from __future__ import annotations

import dataclasses

from service.settings import PREFIX, Settings


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as the variables :meth:`Settings.from_env` reads back to an equal object.

    Each field becomes ``S3_PROXY_<FIELD>`` (booleans ``true``/``false``, tuples joined by
    commas); fields that are ``None`` are left out, and the region is ``AWS_REGION``, the
    variable Lambda itself sets.  Returns e.g. ``{"S3_PROXY_BUCKET": "demo-bucket", ...}``.
    """
    environment: dict[str, str] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if field.name != "region" and value is not None:
            environment[PREFIX + field.name.upper()] = _text(value)
    if settings.region:
        environment["AWS_REGION"] = settings.region
    return environment


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)
