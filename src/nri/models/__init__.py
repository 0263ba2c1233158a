"""Models of the NRI family as compositions of parts (:mod:`nri.models.parts`) in one
:class:`~nri.models.vae.RelationalVAE`. The registry of every model by name, baselines
included, is :data:`nri.registry.MODELS`."""

from nri.models.configs import MPMConfig, NRIConfig
from nri.models.mpm import NRIMPM
from nri.models.nri import NRI
from nri.models.vae import RelationalVAE

__all__ = ["MPMConfig", "NRI", "NRIConfig", "NRIMPM", "RelationalVAE"]
