"""The arm64-runners policy pack: `pulumi preview --policy-pack policy`.

Only builds the pack; the rules live in `policy/validators.py` (building the pack starts the analyzer
server and blocks, so tests import the validators instead).
"""

import sys
from pathlib import Path

# The pack runs from policy/; the rules import the project's own limits (components/config/limits.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from policy.validators import (
    FREE_TIER_RULE_NAME,
    RESOURCE_RULES,
    resource_validator,
    stack_validator,
)

policies = [
    ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=resource_validator(rule.check),
        enforcement_level=EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY,
    )
    for rule in RESOURCE_RULES
]
policies.append(
    StackValidationPolicy(
        name=FREE_TIER_RULE_NAME,
        description="OCI A1 instances stay inside the Always Free allowance.",
        validate=stack_validator,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema(
            properties={
                "ocpus": {"type": "number"},
                "memoryGb": {"type": "number"},
                "blockStorageGb": {"type": "number"},
            }
        ),
    )
)

PolicyPack(
    name="arm64-runners",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies,
)
