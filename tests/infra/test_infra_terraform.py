"""terraform itself accepts every stack: init from the machine's provider mirror + validate for all of
them, and an offline plan for the stacks that read no remote state (driven through tftest).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import tftest
from infra_harness import TerraformHarness, producer_state
from infra_json import ENVIRONMENTS, LAYERS, Stacks

import environments

STACK_NAMES = [f"mdreader-{env}-{layer}" for env in ENVIRONMENTS for layer in LAYERS]
#: Layers whose stacks read no other stack's state, so they plan without any producer's outputs.
SELF_CONTAINED_LAYERS = ("bootstrap", "monitoring", "storage", "auth", "email", "cicd")
PLANNED_STACKS = [f"mdreader-{env}-{layer}" for env in ENVIRONMENTS for layer in SELF_CONTAINED_LAYERS]
#: Stacks that read remote state and plan offline from local state files with stand-in producer outputs.
#: (The data stack can't: planning opens its ephemeral random password, an AWS API call.)
#: (The sync stack can't either: it looks up CloudFront's managed prefix list.)
CONSUMER_STACKS = [
    f"mdreader-{env}-{layer}" for env in ENVIRONMENTS for layer in ("network", "backup", "edge")
]


def initialized(terraform: TerraformHarness, stack_dir: Path, *, backend: bool) -> tftest.TerraformTest:
    test = tftest.TerraformTest(str(stack_dir), binary=terraform.binary, env=terraform.env)
    test.setup(plugin_dir=str(terraform.mirror), backend=backend, cleanup_on_exit=False)
    lock = (stack_dir / ".terraform.lock.hcl").read_text()
    assert re.search(r'provider "[^"]+/hashicorp/aws"', lock)
    assert 'version     = "5.100.0"' in lock, "init must pick the mirror's 5.100 provider"
    return test


@pytest.mark.parametrize("name", STACK_NAMES)
def test_stack_validates_against_the_mirrored_provider(
    name: str, synth_dir: Path, terraform: TerraformHarness
) -> None:
    stack_dir = terraform.copy_stack(synth_dir / "stacks" / name, f"validate-{name}")
    test = initialized(terraform, stack_dir, backend=False)
    result = json.loads(test.execute_command("validate", "-json", "-no-color").out)
    assert result["valid"], result["diagnostics"]
    assert result["error_count"] == 0
    assert result["warning_count"] == 0, result["diagnostics"]


def test_self_contained_stacks_are_exactly_those_without_remote_state(stacks: Stacks) -> None:
    for stack in stacks:
        reads_remote_state = bool(stack.data("terraform_remote_state"))
        layer = stack.name.split("-", 2)[2]
        assert reads_remote_state == (layer not in SELF_CONTAINED_LAYERS), stack.name


def planned_offline(
    name: str, synth_dir: Path, stacks: Stacks, terraform: TerraformHarness, remote_states: dict[str, Path]
) -> dict[str, Any]:
    stack_dir = terraform.copy_stack(synth_dir / "stacks" / name, f"plan-{name}")
    terraform.write_offline_override(stack_dir, remote_states)
    test = initialized(terraform, stack_dir, backend=True)
    plan = test.plan(output=True)

    synthesized = {
        f"{resource_type}.{resource_name}"
        for resource_type, resource_name, _ in stacks.by_name[name].all_resources()
    }
    planned: dict[str, Any] = {change["address"]: change for change in plan["resource_changes"]}
    assert set(planned) == synthesized
    assert all(change["change"]["actions"] == ["create"] for change in planned.values())
    for change in planned.values():
        if change["type"] == "aws_kms_key":
            assert change["change"]["after"]["enable_key_rotation"] is True
    # The override lives only in the test's copy: the deployable output has no test credentials.
    assert not (synth_dir / "stacks" / name / "offline_override.tf.json").exists()
    assert "access_key" not in json.dumps(stacks.by_name[name].config["provider"])
    return planned


@pytest.mark.parametrize("name", PLANNED_STACKS)
def test_stack_plans_offline(name: str, synth_dir: Path, stacks: Stacks, terraform: TerraformHarness) -> None:
    planned_offline(name, synth_dir, stacks, terraform, remote_states={})


@pytest.mark.parametrize("name", CONSUMER_STACKS)
def test_consumer_stack_plans_offline_from_producer_outputs(
    name: str, synth_dir: Path, stacks: Stacks, terraform: TerraformHarness
) -> None:
    settings = environments.load(name.split("-")[1])
    remote_states: dict[str, Path] = {}
    for reference, remote in stacks.by_name[name].data("terraform_remote_state").items():
        layer = remote["config"]["key"].split("/")[1].removesuffix(".tfstate")
        producer = f"mdreader-{settings.name}-{layer}"
        state = producer_state(stacks.by_name[producer].config, settings.region, settings.account_id)
        path = terraform.workdir / f"{name}-{producer}.tfstate"
        path.write_text(json.dumps(state))
        remote_states[reference] = path
    planned = planned_offline(name, synth_dir, stacks, terraform, remote_states)
    if name.endswith("-backup"):
        (selection,) = [c for c in planned.values() if c["type"] == "aws_backup_selection"]
        assert selection["change"]["after"]["resources"] == [
            f"arn:aws:rds:{settings.region}:{settings.account_id}:db:mdreader-offline",
            "arn:aws:s3:::mdreader-offline",
        ]
