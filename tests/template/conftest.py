"""template.yaml, loaded and transformed offline by aws-sam-translator (see tests.support.template)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform as sam_transform

from tests.support.aws import REGION
from tests.support.template import (
    REQUIRED_PARAMETERS,
    StubManagedPolicyLoader,
    Template,
    Transform,
    apply_conditions,
    load_template,
    with_s3_code_uris,
)


@pytest.fixture(scope="session")
def _fixed_region() -> Iterator[None]:
    """SAM takes the region (pseudo parameters, ARN partitions) from boto3: pin it, offline."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", REGION)
        yield


@pytest.fixture(scope="session")
def sam_template() -> Template:
    """The SAM source as written (intrinsic short forms decoded)."""
    return load_template()


@pytest.fixture(scope="session")
def transform(_fixed_region: None, sam_template: Template) -> Transform:
    """transform(**parameter_overrides) -> the transformed template (cached per parameter set)."""
    cache: dict[tuple[tuple[str, str], ...], Template] = {}

    def run(**overrides: str) -> Template:
        params = {**REQUIRED_PARAMETERS, **overrides}
        key = tuple(sorted(params.items()))
        if key not in cache:
            source = with_s3_code_uris(copy.deepcopy(sam_template))
            cache[key] = sam_transform(source, params, StubManagedPolicyLoader())
        return copy.deepcopy(cache[key])

    return run


@pytest.fixture(scope="session")
def deployed(transform: Transform) -> Transform:
    """deployed(**parameter_overrides) -> the transformed template with conditions applied."""

    def run(**overrides: str) -> Template:
        return apply_conditions(transform(**overrides), overrides)

    return run
