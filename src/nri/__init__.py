"""nri: neural relational inference (NRI and NRI-MPM) with fast simulators."""

__version__ = "0.1.0"
