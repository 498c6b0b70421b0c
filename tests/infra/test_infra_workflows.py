"""The GitHub Actions workflows: valid against GitHub's schema (check-jsonschema, pinned in
requirements/dev.txt), actions pinned by commit, and consistent with the stacks they deploy.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra_harness import ROOT
from infra_json import ENVIRONMENTS, LAYERS, Stacks

from modules.lambda_package import RUNTIME_PYTHON

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / ".github" / "actions"
CHECK_JSONSCHEMA = ROOT / ".venv" / "bin" / "check-jsonschema"
PINNED_USE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return document


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def all_text() -> str:
    return "\n".join(p.read_text() for p in [*workflow_files(), *ACTIONS.glob("*/action.yml")])


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_validator_is_pinned_exactly() -> None:
    assert re.search(
        r"^check-jsonschema==\d+\.\d+\.\d+ \\$", (ROOT / "requirements/dev.txt").read_text(), re.M
    )


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        *((p, "vendor.github-workflows") for p in sorted((ROOT / ".github/workflows").glob("*.yml"))),
        *((p, "vendor.github-actions") for p in sorted((ROOT / ".github/actions").glob("*/action.yml"))),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_files_match_githubs_schema(path: Path, schema: str) -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


def test_every_action_is_pinned_by_full_commit_sha() -> None:
    documents = [load(p) for p in [*workflow_files(), *ACTIONS.glob("*/action.yml")]]
    uses = [step["uses"] for document in documents for step in steps(document) if "uses" in step]
    uses += [
        job["uses"] for document in documents for job in document.get("jobs", {}).values() if "uses" in job
    ]
    assert uses
    for use in uses:
        assert use.startswith("./") or PINNED_USE.match(use), use
    for line in all_text().splitlines():
        if re.search(r"uses: [^.].*@[0-9a-f]{40}", line):
            assert re.search(r"# v\d+\.\d+\.\d+$", line), f"say which release the SHA is: {line.strip()}"


def test_workflows_grant_least_privilege_tokens() -> None:
    for path in workflow_files():
        document = load(path)
        assert document["permissions"] == {"contents": "read"} or path.name == "deploy-environment.yml"
        for name, job in document["jobs"].items():
            if job.get("permissions", {}).get("id-token") == "write":
                assert name in {"plan", "dev", "staging", "prod", "deploy"}, f"{path.name}:{name}"
    assert "secrets.AWS_" not in all_text(), "no stored AWS keys: OIDC roles only"
    assert "aws-access-key-id" not in all_text()


def test_pull_requests_run_the_tests_synthesize_scan_and_plan_every_environment(stacks: Stacks) -> None:
    document = load(WORKFLOWS / "pull-request.yml")
    assert list(document["on"]) == ["pull_request"]
    runs = "\n".join(step.get("run", "") for step in steps(document))
    assert "bash scripts/test.sh" in runs
    assert "scripts/build_lambda_zip.py" in runs
    assert ".venv/bin/python main.py" in runs
    assert ".venv/bin/python scripts/scan_infra.py" in runs
    plan = document["jobs"]["plan"]
    assert [entry["env"] for entry in plan["strategy"]["matrix"]["include"]] == list(ENVIRONMENTS)
    assert "environment" not in plan, "an environment would change the OIDC subject the plan role trusts"
    (credentials,) = [s for s in plan["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"].endswith(":role/mdreader-${{ matrix.env }}-github-plan")
    assert "-lock=false" in runs
    (upload,) = [s for s in plan["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == "plans-${{ matrix.env }}"
    planned = re.search(r"for layer in ([a-z ]+); do", runs)
    assert planned
    assert set(planned.group(1).split()) == set(LAYERS) - {"bootstrap", "cicd", "data"}


def test_main_deploys_dev_then_staging_then_prod_behind_its_environment() -> None:
    document = load(WORKFLOWS / "deploy.yml")
    assert document["on"] == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert [(name, jobs[name]["needs"]) for name in ENVIRONMENTS] == [
        ("dev", "build"),
        ("staging", "dev"),
        ("prod", "staging"),
    ]
    for env in ENVIRONMENTS:
        assert jobs[env]["uses"] == "./.github/workflows/deploy-environment.yml"
        assert jobs[env]["with"] == {"environment": env}
    build = "\n".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "scripts/build_lambda_zip.py" in build
    assert "MDREADER_LAMBDA_ZIP" in str(jobs["build"]["steps"])
    assert "scripts/scan_infra.py" in build
    reusable = load(WORKFLOWS / "deploy-environment.yml")
    (deploy,) = reusable["jobs"].values()
    assert deploy["environment"] == "${{ inputs.environment }}"


def test_environment_deploy_builds_the_image_migrates_and_publishes_the_web_app(stacks: Stacks) -> None:
    document = load(WORKFLOWS / "deploy-environment.yml")
    (deploy,) = document["jobs"].values()
    runs = "\n".join(step.get("run", "") for step in deploy["steps"])
    (credentials,) = [s for s in deploy["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"].endswith(
        ":role/mdreader-${{ inputs.environment }}-github-deploy"
    )
    (image,) = [s for s in deploy["steps"] if "build-push-action" in s.get("uses", "")]
    assert image["with"]["file"] == "apps/sync/Dockerfile"
    assert image["with"]["platforms"] == "linux/arm64", "the task definition runs ARM64"
    assert image["with"]["tags"] == "${{ env.REPOSITORY }}:${{ github.sha }}"
    assert deploy["env"]["IMAGE_TAG"] == "${{ github.sha }}"
    assert "sync_image_tag=$IMAGE_TAG" in runs
    assert '"name":"SYNC_MIGRATE_ON_START","value":"true"' in runs
    assert "aws s3 sync dist" in runs
    assert "aws cloudfront create-invalidation" in runs
    # Layer loops: every layer except the administrator's, the image-dependent order kept.
    loops = [match.split() for match in re.findall(r"for layer in ([a-z ]+); do", runs)]
    assert loops[0] + loops[1] == [layer for layer in LAYERS if layer not in {"bootstrap", "cicd"}]
    assert loops[1][-1] == "sync"
    # What the workflow names in the stacks exists there.
    for env in ENVIRONMENTS:
        sync, edge, network = (stacks.get(env, layer) for layer in ("sync", "edge", "network"))
        for target in re.findall(r"-target=([a-z_]+)\.([a-z-]+)", runs):
            assert target[1] in sync.resources(target[0]), target
        assert {"repository_url", "cluster_name"} <= set(sync.config["output"])
        assert {"web_bucket", "distribution_id"} <= set(edge.config["output"])
        names = [subnet["tags"]["Name"] for subnet in network.resources("aws_subnet").values()]
        assert any(name.startswith(f"mdreader-{env}-private-") for name in names)
        (definition,) = [d for d in sync.resources("aws_ecs_task_definition").values()]
        assert definition["family"] == f"mdreader-{env}-sync"
        assert f"mdreader-{env}-sync" in [g["name"] for g in network.resources("aws_security_group").values()]
    assert "mdreader-$ENVIRONMENT-private-*" in runs
    assert "group-name,Values=mdreader-$ENVIRONMENT-sync" in runs


def test_the_setup_gives_the_lambda_runtimes_python_to_compile_the_zips_bytecode() -> None:
    setup = load(ACTIONS / "setup" / "action.yml")
    (python,) = [step for step in steps(setup) if "setup-python" in step.get("uses", "")]
    versions = python["with"]["python-version"].split()
    assert versions[-1] == "3.11"  # the default: what the project and its tests run on
    assert RUNTIME_PYTHON in versions  # scripts/build_lambda_zip.py compiles with python3.12
