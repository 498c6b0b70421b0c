"""snapshots domain."""
