"""The CDK app: which stacks exist per environment and how layers hand values to each other.

``EnvironmentStacks`` creates a layer's stack on first access, after the stacks it reads from, so
synthesizing a subset of layers still builds exactly the producers the requested ones depend on.
Cross-stack values are plain Python attributes; cdktn turns them into outputs and remote-state reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from environments import EnvironmentSettings
from modules._cdk import TARGET_VERSIONS, App
from modules.api import ApiStack
from modules.auth import AuthStack
from modules.backup import BackupStack
from modules.bootstrap import BootstrapStack
from modules.cicd import CicdStack
from modules.data import DataStack
from modules.edge import EdgeStack
from modules.email import EmailStack
from modules.monitoring import MonitoringStack
from modules.network import NetworkStack
from modules.storage import StorageStack
from modules.sync import SyncStack

#: Every layer, producers before consumers.
LAYER_NAMES = (
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


class EnvironmentStacks:
    """The stacks of one environment, each built once, on demand."""

    def __init__(self, app: App, settings: EnvironmentSettings, lambda_zip: Path | None = None) -> None:
        self.app = app
        self.settings = settings
        self.lambda_zip = lambda_zip

    @cached_property
    def bootstrap(self) -> BootstrapStack:
        return BootstrapStack(self.app, settings=self.settings)

    @cached_property
    def monitoring(self) -> MonitoringStack:
        return MonitoringStack(self.app, settings=self.settings)

    @cached_property
    def network(self) -> NetworkStack:
        return NetworkStack(self.app, settings=self.settings, monitoring=self.monitoring)

    @cached_property
    def data(self) -> DataStack:
        return DataStack(self.app, settings=self.settings, network=self.network, monitoring=self.monitoring)

    @cached_property
    def storage(self) -> StorageStack:
        return StorageStack(self.app, settings=self.settings)

    @cached_property
    def backup(self) -> BackupStack:
        return BackupStack(self.app, settings=self.settings, data=self.data, storage=self.storage)

    @cached_property
    def auth(self) -> AuthStack:
        return AuthStack(self.app, settings=self.settings)

    @cached_property
    def email(self) -> EmailStack:
        return EmailStack(self.app, settings=self.settings)

    @cached_property
    def api(self) -> ApiStack:
        if self.lambda_zip is None:
            raise ValueError(
                "the api layer needs the backend's deployment zip: build it with "
                "`python scripts/build_lambda_zip.py` and set MDREADER_LAMBDA_ZIP (or --lambda-zip)"
            )
        return ApiStack(
            self.app,
            settings=self.settings,
            deployment_zip=self.lambda_zip,
            monitoring=self.monitoring,
            network=self.network,
            data=self.data,
            storage=self.storage,
        )

    @cached_property
    def edge(self) -> EdgeStack:
        return EdgeStack(
            self.app, settings=self.settings, storage=self.storage, api=self.api, email=self.email
        )

    @cached_property
    def sync(self) -> SyncStack:
        return SyncStack(
            self.app,
            settings=self.settings,
            monitoring=self.monitoring,
            network=self.network,
            data=self.data,
            storage=self.storage,
            edge=self.edge,
            api=self.api,
        )

    @cached_property
    def cicd(self) -> CicdStack:
        return CicdStack(self.app, settings=self.settings)

    def build(self, layers: Iterable[str]) -> None:
        """Create the stacks of the given layers (and, through attribute access, of their producers)."""
        for layer in layers:
            getattr(self, layer)


def build_app(
    environments: Iterable[EnvironmentSettings],
    layers: Iterable[str] = LAYER_NAMES,
    outdir: str | None = None,
    lambda_zip: Path | None = None,
) -> App:
    """An app holding the requested layers (plus the layers they read from) of every given environment."""
    unknown = set(layers) - set(LAYER_NAMES)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; expected some of {LAYER_NAMES}")
    app = App(outdir=outdir, context={"targetVersions": TARGET_VERSIONS})
    requested = [layer for layer in LAYER_NAMES if layer in set(layers)]
    for settings in environments:
        EnvironmentStacks(app, settings, lambda_zip).build(requested)
    return app
