"""MDReader Cloud REST backend: the MDReader client's API, on FastAPI and SQLAlchemy."""

__version__ = "2.0.0"
