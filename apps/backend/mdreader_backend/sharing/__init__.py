"""sharing domain."""
