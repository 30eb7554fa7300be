"""``sam build`` of template.yaml works without Docker and yields a complete Lambda zip layout.

SAM CLI comes from $SAM_CLI, else ``.venv-sam/bin/sam``, else a virtualenv this test creates
once under ``~/.cache/s3-stream-proxy`` from deploy/requirements-sam.txt (SAM CLI cannot
share the project's virtualenv: it pins botocore releases that aiobotocore cannot use).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAM_REQUIREMENTS = ROOT / "deploy" / "requirements-sam.txt"
ELF_MACHINES = {"aarch64": 0xB7, "x86_64": 0x3E}
"""ELF e_machine values (System V ABI supplements for AArch64 and x86-64)."""
FUNCTIONS = {"ProxyFunctionArm64": "aarch64", "ProxyFunctionX86": "x86_64"}
COMPILED_DEPENDENCIES = ("uvloop", "httptools", "yarl", "multidict", "frozenlist", "aiohttp")
PURE_DEPENDENCIES = ("starlette", "aiobotocore", "botocore", "uvicorn", "h11", "anyio")


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _sam_from_cache() -> Path:
    digest = hashlib.sha256(SAM_REQUIREMENTS.read_bytes()).hexdigest()[:12]
    home = _cache_home() / "s3-stream-proxy" / f"sam-cli-{digest}"
    sam = home / "bin" / "sam"
    if not sam.exists():
        shutil.rmtree(home, ignore_errors=True)
        venv.create(home, with_pip=True)
        pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(SAM_REQUIREMENTS)]
        subprocess.run(pip, check=True, timeout=1200)
    return sam


@pytest.fixture(scope="module")
def sam() -> Path:
    """Path of the ``sam`` executable."""
    configured = os.environ.get("SAM_CLI")
    if configured:
        return Path(configured)
    local = ROOT / ".venv-sam" / "bin" / "sam"
    return local if local.exists() else _sam_from_cache()


@pytest.fixture(scope="module")
def built(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run ``sam build`` once into a temporary build directory; yield that directory."""
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    environ = dict(os.environ, SAM_CLI_TELEMETRY="0", PYTHON=sys.executable)
    command = [str(sam), "build", "--template-file", str(ROOT / "template.yaml"), "--build-dir", str(build_dir)]
    result = subprocess.run(command, check=False, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    yield build_dir


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(("function", "machine"), sorted(FUNCTIONS.items()))
def test_sam_build_artifact_has_launcher_package_and_target_dependencies(
    built: Path, function: str, machine: str
) -> None:
    artifact = built / function
    launcher = artifact / "bootstrap"
    assert launcher.read_bytes() == (ROOT / "lambda" / "bootstrap").read_bytes()
    assert launcher.stat().st_mode & 0o777 == 0o755
    assert (artifact / "service" / "__main__.py").is_file()
    assert (artifact / "service" / "lambda_bridge" / "entry.py").is_file()
    for name in (*PURE_DEPENDENCIES, *COMPILED_DEPENDENCIES):
        assert (artifact / name / "__init__.py").is_file(), f"{name} missing from {function}"
    extensions = sorted(artifact.rglob("*.so"))
    for package in COMPILED_DEPENDENCIES:
        assert any(package in path.relative_to(artifact).parts[0] for path in extensions), package
    wrong = [path for path in extensions if _elf_machine(path) != ELF_MACHINES[machine]]
    assert not wrong, f"extension modules not built for {machine}: {wrong[:5]}"
    tagged = [path.name for path in extensions if "-linux-gnu" in path.name]
    assert tagged and all("cpython-313" in name and machine in name for name in tagged)


def _python_files(tree: Path) -> set[Path]:
    return {path.relative_to(tree) for path in tree.rglob("*.py") if "__pycache__" not in path.parts}


@pytest.mark.timeout(1800)
def test_sam_build_artifact_has_nothing_from_the_checkout_but_the_package(built: Path) -> None:
    for function in FUNCTIONS:
        artifact = built / function
        assert _python_files(artifact / "service") == _python_files(ROOT / "service")
        assert not (artifact / "tests").exists()
        assert not list(artifact.rglob("conftest.py"))
        test_modules = {path.name for path in (ROOT / "tests").rglob("test_*.py")}
        assert not {path.name for path in artifact.rglob("test_*.py")} & test_modules
        assert not (artifact / "bin").exists(), "console scripts name the build machine's interpreter"
        assert not list(artifact.rglob("__pycache__")), "byte code of the build interpreter"
        top_level = {path.name for path in artifact.iterdir()}
        assert not top_level & {"pyproject.toml", "template.yaml", "Dockerfile", "deploy", "lambda", ".venv"}


@pytest.mark.timeout(1800)
def test_sam_build_template_points_at_the_artifacts_and_skips_the_image(built: Path) -> None:
    text = (built / "template.yaml").read_text()
    for function in FUNCTIONS:
        assert f"CodeUri: {function}" in text
    assert not (built / "ProxyImageFunction").exists()


# The SAM translator (run with SAM CLI's own interpreter) turns template.yaml into the
# CloudFormation template that gets deployed; CodeUri becomes an S3 location as `sam package`
# would write it. AWS_ENDPOINT_URL points at a closed loopback port, so nothing leaves the host.
TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(sys.stdin.read())
for resource in template["Resources"].values():
    if "CodeUri" in resource.get("Properties", {}):
        resource["Properties"]["CodeUri"] = "s3://deployment-bucket/package.zip"
print(json.dumps(transform(template, {}, NoManagedPolicies())))
"""
NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture(scope="module")
def translated(sam: Path) -> dict[str, Any]:
    python = sam.parent / "python"
    if not python.exists():
        pytest.skip("this SAM CLI has no Python of its own (AWS installer); the SAM translator cannot be run")
    environ = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    result = subprocess.run(
        [str(python), "-c", TRANSLATE],
        input=(ROOT / "template.yaml").read_text(),
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


class Stack:
    """What CloudFormation would create from ``template`` with ``parameters``: conditions
    evaluated, ``Fn::If`` resolved, and every reference checked against what exists."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        defaults = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        self.parameters = defaults | parameters
        self._conditions: dict[str, bool] = {}
        self.resources = {
            name: self.resolve(body)
            for name, body in template["Resources"].items()
            if "Condition" not in body or self.condition(body["Condition"])
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self.template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, node: dict[str, Any]) -> bool:
        ((function, argument),) = node.items()
        if function == "Fn::Equals":
            return self._scalar(argument[0]) == self._scalar(argument[1])
        if function == "Fn::Not":
            return not self._truth(argument[0])
        if function == "Fn::And":
            return all(self._truth(item) for item in argument)
        if function == "Fn::Or":
            return any(self._truth(item) for item in argument)
        assert function == "Condition", node
        return self.condition(argument)

    def _scalar(self, node: object) -> str:
        if isinstance(node, dict):
            return self.parameters[node["Ref"]]
        return str(node)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if "Fn::If" in node:
                name, then, otherwise = node["Fn::If"]
                return self.resolve(then if self.condition(name) else otherwise)
            return {key: self.resolve(value) for key, value in node.items() if self.resolve(value) != NO_VALUE}
        if isinstance(node, list):
            return [self.resolve(item) for item in node if self.resolve(item) != NO_VALUE]
        return node

    def dangling(self, node: Any) -> list[str]:
        """Names referenced from ``node`` that are neither parameters nor created resources."""
        known = set(self.resources) | set(self.parameters)
        names: list[str] = []
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref":
                    names.append(value)
                elif key == "Fn::GetAtt":
                    names.append(value[0])
                elif key == "Fn::Sub" and isinstance(value, str):
                    names.extend(match.split(".")[0] for match in re.findall(r"\$\{([^}!]+)\}", value))
                else:
                    names.extend(self.dangling(value))
        elif isinstance(node, list):
            for item in node:
                names.extend(self.dangling(item))
        return [name for name in names if name not in known and not name.startswith("AWS::")]

    def failed_rules(self) -> list[str]:
        """Names of template Rules whose assertions fail (CloudFormation refuses such a stack)."""
        failed = []
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._truth(rule["RuleCondition"]):
                continue
            if not all(self._truth(assertion["Assert"]) for assertion in rule["Assertions"]):
                failed.append(name)
        return failed

    def of_type(self, kind: str) -> set[str]:
        return {name for name, body in self.resources.items() if body["Type"] == kind}


ZIP_ARM64: dict[str, str] = {"BucketName": "my-bucket"}
ZIP_X86 = {"BucketName": "my-bucket", "Architecture": "x86_64", "KeyPrefix": "public/"}
IMAGE = {"BucketName": "my-bucket", "ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/proxy:1"}
CLOUDFRONT = {"BucketName": "my-bucket", "AuthType": "AWS_IAM", "EnableCloudFront": "true"}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    ("parameters", "function", "public", "cloudfront"),
    [
        pytest.param(ZIP_ARM64, "ProxyFunctionArm64", True, False, id="zip-arm64-public"),
        pytest.param(ZIP_X86, "ProxyFunctionX86", True, False, id="zip-x86-prefix"),
        pytest.param(IMAGE, "ProxyImageFunction", True, False, id="image"),
        pytest.param(CLOUDFRONT, "ProxyFunctionArm64", False, True, id="zip-behind-cloudfront"),
        pytest.param({**IMAGE, **CLOUDFRONT}, "ProxyImageFunction", False, True, id="image-behind-cloudfront"),
    ],
)
def test_deployed_stack_has_one_function_one_url_and_no_dangling_reference(
    translated: dict[str, Any], parameters: dict[str, str], function: str, public: bool, cloudfront: bool
) -> None:
    stack = Stack(translated, parameters)
    assert stack.failed_rules() == []
    assert stack.of_type("AWS::Lambda::Function") == {function}
    (url,) = stack.of_type("AWS::Lambda::Url")
    url_properties = stack.resources[url]["Properties"]
    assert url_properties["InvokeMode"] == {"Ref": "InvokeMode"}
    # The zip functions are called through their alias (SnapStart needs a published version).
    target = {"Ref": function} if function == "ProxyImageFunction" else {"Ref": f"{function}Aliaslive"}
    assert url_properties["TargetFunctionArn"] in (target, {"Fn::GetAtt": [function, "Arn"]})
    permissions = [stack.resources[name]["Properties"] for name in stack.of_type("AWS::Lambda::Permission")]
    assert all(permission["FunctionName"] == target for permission in permissions)
    principals = sorted((item["Principal"], item["Action"]) for item in permissions)
    expected = [("*", "lambda:InvokeFunction"), ("*", "lambda:InvokeFunctionUrl")] if public else []
    if cloudfront:
        expected += [
            ("cloudfront.amazonaws.com", "lambda:InvokeFunction"),
            ("cloudfront.amazonaws.com", "lambda:InvokeFunctionUrl"),
        ]
    assert principals == sorted(expected)
    assert bool(stack.of_type("AWS::CloudFront::Distribution")) is cloudfront
    assert stack.dangling(stack.resources) == []
    outputs = {
        name: stack.resolve(body["Value"])
        for name, body in translated["Outputs"].items()
        if "Condition" not in body or stack.condition(body["Condition"])
    }
    assert stack.dangling(outputs) == []
    assert ("DistributionDomainName" in outputs) is cloudfront


@pytest.mark.timeout(1800)
def test_cloudfront_with_a_public_url_is_refused(translated: dict[str, Any]) -> None:
    stack = Stack(translated, {"BucketName": "my-bucket", "EnableCloudFront": "true", "AuthType": "NONE"})
    assert stack.failed_rules() == ["CloudFrontNeedsIamAuth"]
