"""template.yaml: cfn-lint passes, and the properties the deploy guide promises hold.

The template is read with cfn-lint's own decoder, so short-form tags (!Ref, !If, ...) come
back as the long-form dictionaries CloudFormation sees.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from service.settings import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ZIP_FUNCTIONS = ("ProxyFunctionArm64", "ProxyFunctionX86")
REF_INVOKE_MODE = {"Ref": "InvokeMode"}
REF_AUTH_TYPE = {"Ref": "AuthType"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    assert isinstance(parsed, dict)
    return parsed


def _resources(template: dict[str, Any]) -> dict[str, Any]:
    resources = template["Resources"]
    assert isinstance(resources, dict)
    return resources


def _statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of the role's inline policies, with both branches of each Fn::If."""
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                yield from (branch for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"})
            else:
                yield statement


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_parameter_drives_the_url_invoke_mode_and_the_runtime(template: dict[str, Any]) -> None:
    resources = _resources(template)
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    image_env = resources["ProxyImageFunction"]["Properties"]["Environment"]["Variables"]
    assert globals_env["S3_PROXY_LAMBDA_INVOKE_MODE"] == REF_INVOKE_MODE
    assert image_env["S3_PROXY_LAMBDA_INVOKE_MODE"] == REF_INVOKE_MODE
    for name in ZIP_FUNCTIONS:
        url = resources[name]["Properties"]["FunctionUrlConfig"]
        assert url == {"AuthType": REF_AUTH_TYPE, "InvokeMode": REF_INVOKE_MODE}
    image_url = resources["ProxyImageFunctionUrl"]["Properties"]
    assert (image_url["AuthType"], image_url["InvokeMode"]) == (REF_AUTH_TYPE, REF_INVOKE_MODE)
    assert template["Parameters"]["InvokeMode"]["Default"] == "RESPONSE_STREAM"


def test_zip_functions_run_our_launcher_on_managed_python(template: dict[str, Any]) -> None:
    makefile = (ROOT / "deploy" / "Makefile").read_text()
    for name in ZIP_FUNCTIONS:
        function = _resources(template)[name]
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/bootstrap"
        assert function["Metadata"]["BuildMethod"] == "makefile"
        assert re.search(rf"^build-{name}:", makefile, flags=re.MULTILINE), f"no make target for {name}"


def test_every_setting_the_guide_names_is_a_parameter(template: dict[str, Any]) -> None:
    expected = {
        "BucketName", "KeyPrefix", "MemorySize", "Timeout", "Architecture", "LogRetentionDays", "InvokeMode",
        "AuthType", "CorsAllowOrigins", "DefaultCacheControl", "ForbiddenAsNotFound", "MaxRanges",
        "AllowListBucket", "ImageUri", "EnableCloudFront",
    }  # fmt: skip
    parameters = template["Parameters"]
    assert expected <= set(parameters)
    assert parameters["Architecture"]["Default"] == "arm64"
    assert set(parameters["AuthType"]["AllowedValues"]) == {"NONE", "AWS_IAM"}
    guide = (ROOT / "docs" / "deploy.md").read_text()
    undocumented = [name for name in parameters if f"`{name}`" not in guide]
    assert not undocumented, f"parameters missing from docs/deploy.md: {undocumented}"


def test_role_reads_only_the_prefix(template: dict[str, Any]) -> None:
    statements = list(_statements(_resources(template)["ProxyRole"]))
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:ListBucket", "kms:Decrypt"}
    assert all(statement["Resource"] != "*" for statement in statements)
    by_action = {_as_list(statement["Action"])[0]: statement for statement in statements}
    objects = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${KeyPrefix}*"}
    assert by_action["s3:GetObject"]["Resource"] == objects
    listing = by_action["s3:ListBucket"]
    assert listing["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}"}
    prefix_only = {"StringLike": {"s3:prefix": {"Fn::Sub": "${KeyPrefix}*"}}}
    assert listing["Condition"] == {"Fn::If": ["HasKeyPrefix", prefix_only, {"Ref": "AWS::NoValue"}]}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [
        pytest.param("", True, id="whole-bucket"),
        pytest.param("public/", True, id="folder"),
        pytest.param("a b/ü-é/", True, id="unicode-and-space"),
        pytest.param("public/*", False, id="iam-wildcard"),
        pytest.param("file?", False, id="iam-single-char-wildcard"),
        pytest.param("${aws:username}/", False, id="iam-policy-variable"),
    ],
)
def test_key_prefix_cannot_widen_the_grant(template: dict[str, Any], prefix: str, allowed: bool) -> None:
    pattern = template["Parameters"]["KeyPrefix"]["AllowedPattern"]
    assert (re.fullmatch(pattern, prefix) is not None) is allowed


@pytest.mark.parametrize(
    "origins",
    ["", "*", "https://app.example.com", "https://a.example, http://localhost:3000", "ftp://x", "app.example.com"],
)
def test_cors_parameter_accepts_what_the_proxy_accepts(template: dict[str, Any], origins: str) -> None:
    pattern = template["Parameters"]["CorsAllowOrigins"]["AllowedPattern"]
    try:
        Settings.from_env({"S3_PROXY_BUCKET": "bucket", "S3_PROXY_CORS_ALLOW_ORIGINS": origins})
    except ConfigError:
        proxy_accepts = False
    else:
        proxy_accepts = True
    assert (re.fullmatch(pattern, origins) is not None) is proxy_accepts


def test_cloudfront_is_optional_signed_and_range_aware(template: dict[str, Any]) -> None:
    resources = _resources(template)
    cloudfront = {name for name, body in resources.items() if body["Type"].startswith("AWS::CloudFront::")}
    assert cloudfront == {"OriginAccessControl", "CachePolicy", "OriginRequestPolicy", "Distribution"}
    assert all(resources[name]["Condition"] == "CreateCloudFront" for name in cloudfront)
    oac = resources["OriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("lambda", "always")
    key = resources["CachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert "Range" not in key["HeadersConfig"].get("Headers", [])
    assert key["EnableAcceptEncodingGzip"] is False and key["EnableAcceptEncodingBrotli"] is False
    behaviour = resources["Distribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["Compress"] is False
    rule = template["Rules"]["CloudFrontNeedsIamAuth"]["Assertions"][0]["Assert"]
    assert rule == {"Fn::Equals": [REF_AUTH_TYPE, "AWS_IAM"]}
    outputs = template["Outputs"]
    assert "FunctionUrl" in outputs
    assert outputs["DistributionDomainName"]["Condition"] == "CreateCloudFront"


def test_rest_api_option_streams_through_invoke_with_response_stream(template: dict[str, Any]) -> None:
    resources = _resources(template)
    rest = {name for name, body in resources.items() if body.get("Condition") == "CreateRestApi"}
    assert rest == {
        "ProxyRestApi", "ProxyRestResource", "ProxyRestMethod", "ProxyRestDeployment", "ProxyRestStage",
        "RestApiInvokePermission",
    }  # fmt: skip
    assert template["Conditions"]["CreateRestApi"] == {"Fn::Equals": [{"Ref": "RestApiStreaming"}, "true"]}
    assert template["Parameters"]["RestApiStreaming"]["Default"] == "false"
    method = resources["ProxyRestMethod"]["Properties"]
    assert (method["HttpMethod"], method["AuthorizationType"]) == ("ANY", REF_AUTH_TYPE)
    integration = method["Integration"]
    assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS_PROXY", "POST")
    assert integration["ResponseTransferMode"] == "STREAM"
    assert integration["TimeoutInMillis"] == 900_000
    uri, variables = integration["Uri"]["Fn::Sub"]
    assert uri.endswith(":lambda:path/2021-11-15/functions/${FunctionArn}/response-streaming-invocations")
    assert variables["FunctionArn"]["Fn::If"][0] == "UseImage"
    assert resources["ProxyRestResource"]["Properties"]["PathPart"] == "{proxy+}"
    permission = resources["RestApiInvokePermission"]["Properties"]
    assert (permission["Action"], permission["Principal"]) == ("lambda:InvokeFunction", "apigateway.amazonaws.com")
    assert "${ProxyRestApi}/*" in permission["SourceArn"]["Fn::Sub"]
    rule = template["Rules"]["RestApiNeedsStreamingRuntime"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [REF_INVOKE_MODE, "RESPONSE_STREAM"]}
    assert template["Outputs"]["RestApiUrl"]["Condition"] == "CreateRestApi"
