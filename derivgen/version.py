"""derivgen's version: a leaf module every layer may read (the build cache keys on it)."""

__version__ = "0.1.0"
