"""The template's SnapStart parameter: both values lint, translate and build (``false``, the
default, is the build of tests/test_deploy_sam_build.py).

SnapStart applies to published versions only (Lambda docs, snapstart.html), so the zip
functions always publish the alias ``live`` and everything that calls the function names
that alias; ``SnapStart`` only switches ``ApplyOn`` between ``PublishedVersions`` and ``None``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.test_deploy_sam_build import IMAGE, ROOT, Stack, sam, translated

__all__ = ["sam", "translated"]  # fixtures, shared with the SAM build checks

TEMPLATE = ROOT / "template.yaml"
ZIP_FUNCTIONS = {"arm64": "ProxyFunctionArm64", "x86_64": "ProxyFunctionX86"}
APPLY_ON = {"true": "PublishedVersions", "false": "None"}


@pytest.mark.parametrize("value", sorted(APPLY_ON))
def test_cfn_lint_passes_with_each_value(value: str) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    command = [str(cfn_lint), "--parameters", f"SnapStart={value}", "BucketName=my-bucket", "--", str(TEMPLATE)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_zip_functions_publish_an_alias_and_switch_snapstart() -> None:
    template, errors = decode(str(TEMPLATE))
    assert not errors, errors
    assert template["Parameters"]["SnapStart"]["Default"] == "false"
    for name in ZIP_FUNCTIONS.values():
        properties = template["Resources"][name]["Properties"]
        assert properties["Runtime"] == "python3.13"  # a runtime SnapStart supports (Python 3.12+)
        assert (properties["AutoPublishAlias"], properties["AutoPublishAliasAllProperties"]) == ("live", True)
        assert properties["SnapStart"] == {"ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}}
    assert "SnapStart" not in template["Resources"]["ProxyImageFunction"]["Properties"]


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("value", sorted(APPLY_ON))
@pytest.mark.parametrize("architecture", sorted(ZIP_FUNCTIONS))
def test_everything_that_calls_the_function_names_the_alias(
    translated: dict[str, Any], value: str, architecture: str
) -> None:
    parameters = {"BucketName": "my-bucket", "SnapStart": value, "Architecture": architecture}
    stack = Stack(translated, parameters | {"RestApiStreaming": "true"})
    function = ZIP_FUNCTIONS[architecture]
    alias = f"{function}Aliaslive"
    assert stack.failed_rules() == []
    assert stack.resources[function]["Properties"]["SnapStart"] == {"ApplyOn": APPLY_ON[value]}
    assert stack.of_type("AWS::Lambda::Alias") == {alias}
    version = stack.resources[alias]["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
    assert stack.of_type("AWS::Lambda::Version") == {version}
    (url,) = stack.of_type("AWS::Lambda::Url")
    assert stack.resources[url]["Properties"]["TargetFunctionArn"] == {"Ref": alias}
    permissions = [stack.resources[name]["Properties"] for name in stack.of_type("AWS::Lambda::Permission")]
    assert {permission["Principal"] for permission in permissions} == {"*", "apigateway.amazonaws.com"}
    assert all(permission["FunctionName"] == {"Ref": alias} for permission in permissions)
    integration = stack.resources["ProxyRestMethod"]["Properties"]["Integration"]
    assert integration["Uri"]["Fn::Sub"][1]["FunctionArn"] == {"Ref": alias}
    assert stack.dangling(stack.resources) == []


@pytest.mark.timeout(1800)
def test_snapstart_with_a_container_image_is_refused(translated: dict[str, Any]) -> None:
    stack = Stack(translated, {**IMAGE, "SnapStart": "true"})
    assert stack.failed_rules() == ["SnapStartNeedsZip"]
    assert Stack(translated, IMAGE).failed_rules() == []


@pytest.mark.timeout(1800)
def test_sam_build_builds_both_functions_with_snapstart_on(sam: Path, tmp_path: Path) -> None:
    # The default (SnapStart=false) is what tests/test_deploy_sam_build.py builds.
    build_dir = tmp_path / "build"
    environ = dict(os.environ, SAM_CLI_TELEMETRY="0", PYTHON=sys.executable)
    command = [
        str(sam), "build", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir),
        "--parameter-overrides", "SnapStart=true",
    ]  # fmt: skip
    result = subprocess.run(command, check=False, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    built, errors = decode(str(build_dir / "template.yaml"))
    assert not errors, errors
    for name in ZIP_FUNCTIONS.values():
        assert (build_dir / name / "bootstrap").is_file()
        assert built["Resources"][name]["Properties"]["AutoPublishAlias"] == "live"
