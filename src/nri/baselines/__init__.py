"""Baselines of the NRI and NRI-MPM papers (spec/evaluation.md 3; docs/baselines.md).

* :class:`Correlation`: relations from the correlation of state sequences (closed form);
* :class:`Static`: ``x_hat[t + k] = x[t]`` (closed form);
* :class:`JointLSTM`: one LSTM over the concatenated states of all objects;
* :class:`SUGAR`: NRI with hard symmetry and a node-degree prior (our form);
* :class:`ModularMeta`: edge and node modules meta-learned with per-sample structures
  found by simulated annealing (Alet et al. 2019; :mod:`nri.baselines.anneal`);
* :class:`NRISupervised`, :class:`NRITrueGraph`: NRI's encoder trained on the labels,
  its decoder trained on the true graph (NRI-MPM's are ``MPMConfig.scheme``).

SUGAR and the NRI schemes are presets of :class:`nri.models.vae.RelationalVAE` (they
name parts); the others are models of their own.

Closed-form models subclass :class:`ClosedFormModel`; ``nri train`` fits them without
Lightning and writes the same run directory.
"""

from nri.baselines.base import CapabilityError, ClosedFormModel
from nri.baselines.correlation import Correlation, CorrelationConfig
from nri.baselines.lstm import JointLSTM, LSTMConfig
from nri.baselines.modular_meta import ModularMeta, ModularMetaConfig
from nri.baselines.nri_schemes import NRISupervised, NRITrueGraph
from nri.baselines.static import Static, StaticConfig
from nri.baselines.sugar import SUGAR, SUGARConfig

__all__ = [
    "SUGAR",
    "CapabilityError",
    "ClosedFormModel",
    "Correlation",
    "CorrelationConfig",
    "JointLSTM",
    "LSTMConfig",
    "ModularMeta",
    "ModularMetaConfig",
    "NRISupervised",
    "NRITrueGraph",
    "SUGARConfig",
    "Static",
    "StaticConfig",
]
