"""workspaces domain."""
