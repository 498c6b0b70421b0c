"""folders domain."""
