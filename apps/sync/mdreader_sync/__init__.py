"""MDReader sync service: Hocuspocus-compatible collaboration on pycrdt (built in its own issue)."""
