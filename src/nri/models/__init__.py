"""Models: name -> (class, config) in one literal dict."""

from nri.models.mpm import NRIMPM, MPMConfig
from nri.models.nri import NRI, NRIConfig

MODELS = {"nri": (NRI, NRIConfig), "nri_mpm": (NRIMPM, MPMConfig)}

__all__ = ["MODELS", "NRI", "NRIConfig", "NRIMPM", "MPMConfig"]
