"""Every model by name: ``name -> (class, config class)`` in one literal dict.

The learned-graph models are presets of :class:`nri.models.vae.RelationalVAE` (their
parts are in :mod:`nri.models.parts`); the closed-form and graph-free baselines keep
their own small interface (:mod:`nri.baselines`). This module sits above both
packages, so that neither imports the other upward.
"""

from nri.baselines.correlation import Correlation, CorrelationConfig
from nri.baselines.lstm import JointLSTM, LSTMConfig
from nri.baselines.modular_meta import ModularMeta, ModularMetaConfig
from nri.baselines.nri_schemes import (
    NRISupervised,
    NRISupervisedConfig,
    NRITrueGraph,
    NRITrueGraphConfig,
)
from nri.baselines.static import Static, StaticConfig
from nri.baselines.sugar import SUGAR, SUGARConfig
from nri.models.configs import MPMConfig, NRIConfig
from nri.models.mpm import NRIMPM
from nri.models.nri import NRI

__all__ = ["MODELS"]

MODELS = {
    "nri": (NRI, NRIConfig),
    "nri_mpm": (NRIMPM, MPMConfig),
    # baselines (spec/evaluation.md 3; docs/baselines.md)
    "correlation": (Correlation, CorrelationConfig),
    "static": (Static, StaticConfig),
    "lstm": (JointLSTM, LSTMConfig),
    "sugar": (SUGAR, SUGARConfig),
    "modular_meta": (ModularMeta, ModularMetaConfig),  # search over structures
    "nri_supervised": (NRISupervised, NRISupervisedConfig),  # = nri, scheme supervised
    "nri_true_graph": (NRITrueGraph, NRITrueGraphConfig),  # = nri, scheme true_graph
}
