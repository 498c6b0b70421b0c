"""Synthesize MDReader Cloud's infrastructure: ``python main.py`` (or ``cdktn synth``, which runs it).

Writes cdktf.out/stacks/mdreader-<env>-<layer>/cdk.tf.json for every environment and layer, or a subset:

    python main.py --env dev --layer network        # or MDREADER_ENVIRONMENTS=dev MDREADER_LAYERS=network

A layer brings the layers it reads from. The api layer packages the zip that scripts/build_lambda_zip.py
built (--lambda-zip or $MDREADER_LAMBDA_ZIP); without one, synthesizing it stops with a message.
Invalid settings stop synthesis with a message naming the field.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import environments
from modules.app import LAYER_NAMES, build_app


def _csv(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--env",
        action="append",
        choices=environments.ENVIRONMENT_NAMES,
        help="environment to synthesize (repeatable; default: $MDREADER_ENVIRONMENTS or all)",
    )
    parser.add_argument(
        "--layer",
        action="append",
        choices=LAYER_NAMES,
        help="layer to synthesize (repeatable; default: $MDREADER_LAYERS or all)",
    )
    parser.add_argument(
        "--lambda-zip",
        type=Path,
        help="backend deployment zip for the api layer (default: $MDREADER_LAMBDA_ZIP)",
    )
    parser.add_argument("--outdir", help="output directory (default: $CDKTF_OUTDIR or cdktf.out)")
    args = parser.parse_args(argv)
    args.env = (
        args.env or _csv(os.environ.get("MDREADER_ENVIRONMENTS")) or list(environments.ENVIRONMENT_NAMES)
    )
    zip_from_env = os.environ.get("MDREADER_LAMBDA_ZIP")
    args.lambda_zip = args.lambda_zip or (Path(zip_from_env) if zip_from_env else None)
    args.layer = args.layer or _csv(os.environ.get("MDREADER_LAYERS")) or list(LAYER_NAMES)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    outdir = args.outdir or os.environ.get("CDKTF_OUTDIR") or "cdktf.out"
    try:
        settings = [environments.load(name) for name in args.env]
        # Synthesis never removes stacks it no longer produces; start from an empty stacks folder.
        shutil.rmtree(Path(outdir) / "stacks", ignore_errors=True)
        app = build_app(settings, args.layer, outdir=outdir, lambda_zip=args.lambda_zip)
    except ValueError as error:  # InvalidSettingsError, or an unknown layer from the environment variable
        print(f"synth stopped: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
