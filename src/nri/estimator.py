"""The estimator API: ``nri.NRI(...).fit(X)``, then ``infer``, ``forecast``, ``save``.

A thin layer over the code behind ``nri train``, ``nri infer`` and ``nri forecast``;
nothing here trains, normalises or checks data by itself:

* the constructor resolves presets and settings as ``nri train --preset ... --set
  section.key=value`` does (:mod:`nri.estimator_config`);
* :meth:`Model.fit` builds a :class:`~nri.data.series.Series` from the arrays
  (:func:`~nri.data.series.make_series`: the checks of own data), normalises with the
  training split's min/max (:func:`~nri.data.splits.prepare`) and trains with
  :func:`nri.training.fit.fit` (Lightning, checkpoints, ``resume``) into a run
  directory, which it then loads (:func:`~nri.training.run_dir.load_run`, best
  checkpoint);
* :meth:`Model.infer` is :func:`nri.infer.infer_edges`, :meth:`Model.forecast` is
  :func:`nri.forecast.forecast_trajectories`, on the same run;
* :meth:`Model.save` copies the run directory; :func:`load` reads any run directory,
  also one written by ``nri train``.

Bad input raises one-line ``ValueError`` subclasses: :class:`~nri.data.errors.DataError`
(arrays), :class:`~nri.config.ConfigError` (settings), ``RunError`` (run directories).
docs/python.md describes the API, shapes and units.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nri.aggregate import METHODS
from nri.config import RunConfig
from nri.data.errors import DataError
from nri.data.files import CUSTOM
from nri.data.series import Series, make_series, notice_swapped_axes
from nri.data.splits import SeriesSet, prepare
from nri.estimator_config import fitted_config, resolve_settings
from nri.forecast import forecast_trajectories
from nri.infer import infer_edges
from nri.training.fit import fit as fit_run
from nri.training.run_dir import LoadedRun, RunError, load_run

__all__ = ["NRI", "NRIMPM", "Model", "load"]

VALID_FRAC = 0.1  # the validation fraction of `nri import` (nri.data.splits)


def _array(x: Any, what: str) -> np.ndarray:
    """NumPy or torch (any device, detached) -> a NumPy array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch.Tensor
        x = x.detach().cpu().numpy()
    if isinstance(x, Series):
        raise DataError(f"{what}: give an array [S, N, T, F], not a Series")
    return np.asarray(x)


def _series(
    x: Any,
    what: str,
    edges: Any = None,
    k: int | None = None,
    feature_names: Any = None,
    object_names: Any = None,
) -> Series:
    """Checked trajectories (``make_series``: shape, numbers, NaN, edges of ``k``
    edge types when the settings give it; names, one per feature / object)."""
    e = None if edges is None else _array(edges, f"{what} edges")
    x = _array(x, what)
    notice_swapped_axes(x, what)
    return make_series(
        x,
        edges=e,
        source=what,
        n_edge_types=k,
        feature_names=feature_names,
        object_names=object_names,
    )


def _split_off_valid(series: Series, seed: int = 0) -> tuple[Series, Series]:
    """A seeded random 10 % of the samples (at least one) as the validation split."""
    s = series.n_samples
    n_valid = max(1, round(s * VALID_FRAC))
    if s - n_valid < 1:
        raise DataError(
            f"{series.source}: {s} sample(s) cannot fill a training and a validation "
            "split; give more samples or valid=X_valid"
        )
    perm = np.random.default_rng(seed).permutation(s)
    return series.take(np.sort(perm[n_valid:])), series.take(np.sort(perm[:n_valid]))


class Model:
    """A relational model (encoder -> edge types -> decoder) as an estimator.

    Args:
        preset: a preset name or YAML file, or a list of them, merged in order (as
            ``nri train --preset``); None: the model's defaults.
        **settings: config keys, as ``--set``: a bare name goes to the section that
            has it (``epochs``, ``batch_size``, ``seed``, ``precision`` -> ``train``;
            ``lr``, ``encoder``, ``decoder``, ``n_edge_types``, ``skip_first`` ->
            ``model``); ``**{"model.lr": 1e-3}`` names the section explicitly.
            Unknown names raise :class:`~nri.config.ConfigError` at once.

    ``model.n_features`` (and ``model.n_objects`` for models tied to N) are taken from
    the training data unless given; when the model's encoder window
    ``model.n_timesteps`` is longer than the training samples and was not given, the
    window and rollout lengths that ``nri import`` suggests for samples of that
    length are used.

    Attributes (after :meth:`fit` or :func:`load`):
        run_dir_: the run directory (``config.yaml``, ``normalizer.json``,
            ``checkpoints/``, logs).
        run_: the loaded run (:class:`~nri.training.run_dir.LoadedRun`: config,
            model on the best checkpoint, normaliser).
    """

    model_name: str | None = None  # NRI / NRIMPM fix it; Model takes the preset's

    def __init__(self, preset: str | list[str] | None = None, **settings: Any) -> None:
        self.presets = [preset] if isinstance(preset, str) else list(preset or [])
        self.settings = dict(settings)
        self._raw, self._given = resolve_settings(
            self.presets, self.settings, self.model_name, type(self).__name__
        )
        self.run_dir_: Path | None = None
        self.run_: LoadedRun | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __repr__(self) -> str:
        args = [f"preset={p!r}" for p in ([self.presets] if len(self.presets) > 1
                                          else self.presets)]  # fmt: skip
        args += [f"{k}={v!r}" for k, v in self.settings.items()]
        return f"{type(self).__name__}({', '.join(args)})"

    @classmethod
    def from_config(cls, config: RunConfig) -> Model:
        """An unfitted estimator with exactly ``config``'s model and train settings
        (all taken as given: none is refilled from the data)."""
        raw = config.to_dict()
        raw.pop("data", None)
        est = cls.__new__(cls)
        est.presets, est.settings = [], {}
        est._raw = raw
        est._given = {f"{section}.{key}" for section in ("model", "train")
                      for key in raw[section]}  # fmt: skip
        est.run_dir_, est.run_, est._tmp = None, None, None
        return est

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: Any,
        edges: Any = None,
        valid: Any = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        feature_names: Sequence[str] | None = None,
        object_names: Sequence[str] | None = None,
    ) -> Model:
        """Train on ``X`` with the code of ``nri train``; returns ``self``.

        Args:
            X: training trajectories ``[S, N, T, F]`` (NumPy or torch), physical units.
            edges: true edges of ``X`` (optional; for supervised schemes and the
                validation edge accuracy): labels ``[S, E]`` in :mod:`nri.graph`
                order, ``[S, N, N]`` or one shared ``[N, N]`` indexed [receiver,
                sender]; 0 = no interaction, -1 = unknown.
            valid: validation trajectories ``[S', N, T', F]``, or a pair
                ``(X_valid, edges_valid)``; None: a seeded random 10 % of ``X`` (at
                least one sample), as ``nri import`` splits off its validation set.
            run_dir: where the run directory goes (None: a temporary directory that
                lives as long as this object; :meth:`save` copies it).
            resume: continue the run in ``run_dir`` from its last checkpoint, as
                ``nri train --resume`` (same data and settings; only ``epochs`` may
                grow). Without it a ``run_dir`` that holds a run is refused.
            feature_names, object_names: the names of the F features and the N
                objects of ``X`` (and ``valid``), saved with the run: :meth:`infer`
                and :meth:`forecast` given names then match new data by name
                (reordered when given in another order, refused when they differ),
                as ``nri infer`` does with the columns of a CSV. None: by position.

        Raises:
            DataError: bad arrays (shape, NaN or infinite values, edges), one line.
            ConfigError: settings that do not fit the data, one line.
            RunError: ``run_dir`` holds a run and ``resume`` is False.
        """
        k = self._raw.get("model", {}).get("n_edge_types")  # said: no notice
        names = {"feature_names": feature_names, "object_names": object_names}
        train = _series(X, "X_train", edges, k, **names)
        if valid is None:
            train, val = _split_off_valid(train)
        else:
            xv, ev = valid if isinstance(valid, tuple) else (valid, None)
            val = _series(xv, "valid", ev, k, **names)
        data = prepare(
            SeriesSet(
                splits={"train": train, "valid": val},
                name="estimator",
                system=CUSTOM,
                meta={
                    "feature_names": list(train.feature_names),
                    "object_names": list(train.object_names),
                    "objects_named": train.objects_named,
                },  # fmt: skip
                source="in-memory arrays (nri.Model.fit)",
                label="X_train",
            )
        )
        config = fitted_config(self._raw, self._given, train)
        tmp = None
        if run_dir is None:  # kept until the next successful fit or the object's end
            tmp = tempfile.TemporaryDirectory(prefix="nri-run-")
            run_dir = Path(tmp.name) / "run"
        result = fit_run(config, run_dir, data=data, resume=resume)
        self.run_ = load_run(result.run_dir)
        self.run_dir_, self._tmp = Path(result.run_dir), tmp
        return self

    # ----------------------------------------------------------------- inference

    def _fitted(self) -> LoadedRun:
        if self.run_ is None:
            raise RunError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) or nri.load"
            )
        return self.run_

    def infer(
        self,
        X: Any,
        aggregate: bool | str = False,
        edge_type: int | None = None,
        feature_names: Sequence[str] | None = None,
        object_names: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Edge-type probabilities ``q(z | x)`` of every sample.

        Each sample is cut into non-overlapping encoder windows of ``model.n_timesteps``
        frames (``0 .. W-1``, ``W .. 2W-1``, ...; frames after the last whole window
        are not read), as ``nri infer`` does; a sample's probabilities are the mean
        over its windows.

        Args:
            X: trajectories ``[S, N, T, F]`` in the units of the training data, with
                ``T >= model.n_timesteps`` and the training data's F.
            aggregate: return one ``[N, N]`` interaction score instead: the mean over
                samples (and windows) of ``P(type != 0)`` = ``1 - P(no interaction)``
                (type 0 means "no interaction" in runs trained with
                ``skip_first=True``, as the springs/Kuramoto presets), or of
                ``P(type = edge_type)`` when ``edge_type`` is given. ``"logit"``
                pools by the normalised geometric mean instead (the mean of the
                log-odds for two types; :mod:`nri.aggregate`), ``"mean"`` = True.
            edge_type: the type scored by ``aggregate`` (needed for runs trained
                without ``skip_first``, whose types have no fixed meaning).
            feature_names, object_names: the names of ``X``'s features and objects,
                for runs trained on named data: ``X`` is put into the run's order
                by name (the output is indexed by the run's object order then);
                None: by position, with a :class:`~nri.errors.DataNotice`
                when the run has names.

        Returns:
            ``[S, N, N, K]`` float64 indexed ``[sample, receiver, sender, type]``, each
            off-diagonal row summing to 1 over K and the diagonal (no self-edges) 0;
            with ``aggregate`` ``[N, N]`` indexed ``[receiver, sender]``, diagonal 0.

        Raises:
            DataError: bad arrays, or data that do not fit the run (features,
                frames), one line; ValueError: ``aggregate`` without a known
                "no interaction" type and no ``edge_type``.
        """
        run = self._fitted()
        series = _series(X, "X", feature_names=feature_names, object_names=object_names)
        result = infer_edges(run, series)
        if aggregate:  # every sample has the same number of windows
            method = "mean" if aggregate is True else str(aggregate)
            if method not in METHODS:
                raise ValueError(
                    f"aggregate must be True, 'mean' or 'logit', got {aggregate!r}"
                )
            return result.graph_matrix(method, edge_type)
        s, k = series.n_samples, result.n_edge_types
        q = np.zeros((s, result.probs.shape[1], k))  # [S, E, K]
        sample = result.window_sample
        assert sample is not None
        np.add.at(q, sample, result.probs)  # sum over each sample's windows
        q /= np.bincount(sample, minlength=s)[:, None, None]
        dense = np.zeros((s, series.n_objects, series.n_objects, k))
        dense[:, result.recv, result.send] = q  # [S, N, N, K] [receiver, sender]
        return dense

    def forecast(
        self,
        X: Any,
        steps: int = 20,
        feature_names: Sequence[str] | None = None,
        object_names: Sequence[str] | None = None,
    ) -> np.ndarray:
        """The next ``steps`` frames of every sample, in the units of ``X``.

        The graph is the most likely type of each edge, inferred from the last
        ``model.n_timesteps`` frames; the decoder continues from the last frame
        (:func:`nri.forecast.forecast_trajectories`, ``graph_mode="argmax"``).
        ``feature_names`` / ``object_names``: as in :meth:`infer` (the output is in
        the run's order of features and objects when they are given).

        Returns:
            ``[S, N, steps, F]`` float64, frames ``T .. T + steps - 1``.

        Raises:
            DataError: bad arrays, data that do not fit the run, ``steps < 1``, a
                model without decoder.
        """
        run = self._fitted()
        series = _series(X, "X", feature_names=feature_names, object_names=object_names)
        return forecast_trajectories(run, series, n_steps=steps).pred

    # -------------------------------------------------------------------- files

    def save(self, path: str | Path) -> Path:
        """Write the run directory to ``path`` (resolved config, normaliser,
        checkpoints, logs; it loads with :func:`load` and every ``nri`` command that
        takes a run). ``path`` must not exist or be empty; returns it."""
        self._fitted()
        assert self.run_dir_ is not None
        path = Path(path)
        if path.resolve() == self.run_dir_.resolve():
            return path
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise RunError(f"{path} already exists and is not empty; choose another")
        shutil.copytree(self.run_dir_, path, dirs_exist_ok=True)
        return path


class NRI(Model):
    """NRI (Kipf et al. 2018) as an estimator; presets ``springs5``, ``charged5``,
    ``kuramoto5``, ... and ``cpu`` (README). See :class:`Model`."""

    model_name = "nri"


class NRIMPM(Model):
    """NRI-MPM (Chen et al. 2021) as an estimator; presets ``mpm_springs5``,
    ``mpm_charged5``, ... See :class:`Model`."""

    model_name = "nri_mpm"


_CLASSES: dict[str, type[Model]] = {"nri": NRI, "nri_mpm": NRIMPM}


def load(path: str | Path, checkpoint: str = "best") -> Model:
    """The fitted estimator of a run directory (written by :meth:`Model.save`,
    :meth:`Model.fit` or ``nri train``): :class:`NRI`, :class:`NRIMPM` or
    :class:`Model` by the run's model. Fitting it again trains afresh with the run's
    configuration (or continues it with ``run_dir=path, resume=True``).

    Args:
        checkpoint: "best" (lowest validation loss), "last" or a ``.ckpt`` path.

    Raises:
        RunError, CheckpointError: not a run directory, or a damaged one (one line).
    """
    run = load_run(path, checkpoint)
    est = _CLASSES.get(run.config.model, Model).from_config(run.config)
    est.run_dir_ = Path(path)
    est.run_ = run
    return est
