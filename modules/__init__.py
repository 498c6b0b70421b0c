"""Infrastructure layers of MDReader Cloud: one module per layer (``modules/<layer>.py``), shared
constructs in ``common``, the app wiring in ``app``, and the cdktn import behind ``_cdk``.
"""
