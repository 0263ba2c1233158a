"""Models: name -> (class, config) in one literal dict."""

from nri.baselines.correlation import Correlation, CorrelationConfig
from nri.baselines.lstm import JointLSTM, LSTMConfig
from nri.baselines.nri_schemes import NRISupervised, NRITrueGraph
from nri.baselines.static import Static, StaticConfig
from nri.baselines.sugar import SUGAR, SUGARConfig
from nri.models.configs import MPMConfig, NRIConfig
from nri.models.mpm import NRIMPM
from nri.models.nri import NRI

MODELS = {
    "nri": (NRI, NRIConfig),
    "nri_mpm": (NRIMPM, MPMConfig),
    # baselines (spec/evaluation.md 3; docs/baselines.md)
    "correlation": (Correlation, CorrelationConfig),
    "static": (Static, StaticConfig),
    "lstm": (JointLSTM, LSTMConfig),
    "sugar": (SUGAR, SUGARConfig),
    "nri_supervised": (NRISupervised, NRIConfig),
    "nri_true_graph": (NRITrueGraph, NRIConfig),
}

__all__ = ["MODELS", "NRI", "NRIConfig", "NRIMPM", "MPMConfig"]
