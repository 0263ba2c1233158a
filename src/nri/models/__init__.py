"""Models: name -> (class, config) in one literal dict."""

from nri.models.nri import NRI, NRIConfig

MODELS = {"nri": (NRI, NRIConfig)}

__all__ = ["MODELS", "NRI", "NRIConfig"]
