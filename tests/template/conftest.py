"""template.yaml, loaded and transformed offline by aws-sam-translator, as tests see it.

Three views of the template:

- ``sam_template``: the SAM source as written (intrinsic short forms decoded).
- ``transform(**params)``: what CloudFormation receives after the SAM transform, with the given
  parameter values (conditions and ``Fn::If`` still unresolved, as cfn-lint should see them).
- ``deployed(**params)``: the transformed template as it would be deployed with those values:
  conditions evaluated, resources and outputs whose condition is false dropped, every ``Fn::If``
  replaced by its chosen branch and ``AWS::NoValue`` removed.

No network and no AWS account: the managed-policy loader is a stub, the region is fixed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator

import pytest
from cfnlint.decode.decode import decode_str
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform as sam_transform
from template_tools import (
    BASIC_EXECUTION_ROLE,
    REGION,
    REQUIRED_PARAMETERS,
    TEMPLATE_PATH,
    Template,
    evaluate_conditions,
    parameter_values,
    resolve_ifs,
)


class StubManagedPolicyLoader:
    """Stands in for the IAM ListPolicies call SAM makes for policies it does not know."""

    def load(self) -> dict[str, str]:
        return {"AWSLambdaBasicExecutionRole": BASIC_EXECUTION_ROLE}


def load_template() -> Template:
    template, errors = decode_str(TEMPLATE_PATH.read_text(encoding="utf-8"))
    assert not errors, errors
    assert template is not None
    # cfn-lint's nodes carry line marks; plain JSON types are what the translator expects.
    plain: Template = json.loads(json.dumps(template))
    return plain


def _with_s3_code_uris(template: Template) -> Template:
    """What `sam package` does before the transform: local code paths become S3 URIs."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = "s3://artifacts/" + properties[key].strip("/")
    return template


@pytest.fixture(scope="session")
def _fixed_region() -> Iterator[None]:
    """SAM takes the region (pseudo parameters, ARN partitions) from boto3: pin it, offline."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", REGION)
        yield


@pytest.fixture(scope="session")
def sam_template() -> Template:
    return load_template()


@pytest.fixture(scope="session")
def transform(_fixed_region: None, sam_template: Template) -> Callable[..., Template]:
    """transform(**parameter_overrides) -> the transformed template (cached per parameter set)."""
    cache: dict[tuple[tuple[str, str], ...], Template] = {}

    def run(**overrides: str) -> Template:
        params = {**REQUIRED_PARAMETERS, **overrides}
        key = tuple(sorted(params.items()))
        if key not in cache:
            source = _with_s3_code_uris(copy.deepcopy(sam_template))
            cache[key] = sam_transform(source, params, StubManagedPolicyLoader())
        return copy.deepcopy(cache[key])

    return run


@pytest.fixture(scope="session")
def deployed(transform: Callable[..., Template]) -> Callable[..., Template]:
    """deployed(**parameter_overrides) -> the transformed template with conditions applied."""

    def run(**overrides: str) -> Template:
        template = transform(**overrides)
        params = parameter_values(template, {**REQUIRED_PARAMETERS, **overrides})
        conditions = evaluate_conditions(template, params)
        for section in ("Resources", "Outputs"):
            template[section] = {
                name: body
                for name, body in template.get(section, {}).items()
                if conditions.get(body.get("Condition", ""), True)
            }
        resolved: Template = resolve_ifs(template, conditions)
        return resolved

    return run
