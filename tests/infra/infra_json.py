"""Read the synthesized stacks (cdktf.out/stacks/*/cdk.tf.json) the way the tests query them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("dev", "staging", "prod")
LAYERS = (
    "bootstrap",
    "monitoring",
    "network",
    "data",
    "storage",
    "backup",
    "auth",
    "email",
    "api",
    "edge",
    "sync",
    "cicd",
)


@dataclass(frozen=True)
class Stack:
    name: str
    config: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return dict(self.config.get("resource", {}).get(resource_type, {}))

    def only(self, resource_type: str) -> dict[str, Any]:
        """The single resource of a type (fails if there are none or several)."""
        found = list(self.resources(resource_type).values())
        assert len(found) == 1, f"{self.name}: expected one {resource_type}, found {len(found)}"
        return found[0]

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        return dict(self.config.get("data", {}).get(data_type, {}))

    def all_resources(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for resource_type, by_name in self.config.get("resource", {}).items():
            for name, body in by_name.items():
                yield resource_type, name, body


@dataclass(frozen=True)
class Stacks:
    by_name: dict[str, Stack]

    @classmethod
    def load(cls, outdir: Path) -> Stacks:
        return cls(
            {
                path.parent.name: Stack(path.parent.name, json.loads(path.read_text()))
                for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
            }
        )

    def get(self, env: str, layer: str) -> Stack:
        return self.by_name[f"mdreader-{env}-{layer}"]

    def __iter__(self) -> Iterator[Stack]:
        return iter(self.by_name.values())


def reference_to(expression: str, resource_type: str) -> bool:
    """Whether a value is a Terraform reference to a resource of the given type (not a literal)."""
    return isinstance(expression, str) and expression.startswith(f"${{{resource_type}.")
