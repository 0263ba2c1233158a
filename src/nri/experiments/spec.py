"""What the experiments are: methods, data sets, tables, scales and the paper's numbers.

Everything here is data. A *cell* is one (method, data set, training seed); a table is a
set of methods x data sets x metrics; a scale fixes the data sizes and the training
settings. The paper's numbers are those of spec/evaluation.md section 4 (Chen, Wang, Li,
AAAI 2021, Tables 1-3), with their asterisks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DATASETS: tuple[str, ...] = (
    "springs5",
    "charged5",
    "kuramoto5",
    "springs10",
    "charged10",
    "kuramoto10",
)


def dataset_label(suffix: str) -> str:
    """``"charged10"`` -> ``"Charged 10"``."""
    system = suffix.rstrip("0123456789")
    return f"{system.capitalize()} {suffix[len(system) :]}"


def split_suffix(suffix: str) -> tuple[str, int]:
    """``"charged10"`` -> ``("charged", 10)``."""
    system = suffix.rstrip("0123456789")
    return system, int(suffix[len(system) :])


@dataclass(frozen=True)
class Method:
    """One row of a table.

    Attributes:
        key: identifier (CLI ``--methods``, run directory name).
        label: row label in tables and legends.
        presets: preset names, ``{suffix}`` replaced by the data set (e.g. ``mpm_{suffix}``).
        trainable: trained by gradient descent (gets the scale's training settings);
            False for the closed-form baselines (correlation, static).
        acc_key: the headline accuracy in ``metrics.json``: ``acc_perm``
            (permutation-invariant) for unsupervised models, ``acc`` (raw) where labels
            fix the types (supervised, correlation).
        overrides: extra ``section.key=value`` settings.
        paper_only: not run by us; the table shows the paper's number (no row is at
            present: ModularMeta is run since issue 17).
    """

    key: str
    label: str
    presets: tuple[str, ...] = ()
    trainable: bool = True
    acc_key: str = "acc_perm"
    overrides: tuple[str, ...] = ()
    paper_only: bool = False

    def preset_names(self, suffix: str) -> list[str]:
        return [p.format(suffix=suffix) for p in self.presets]


METHODS: dict[str, Method] = {
    m.key: m
    for m in (
        Method("correlation", "Correlation (ours)", ("correlation_{suffix}",),
               trainable=False, acc_key="acc"),
        Method("lstm", "LSTM (joint)", ("lstm_{suffix}",)),
        Method("static", "Static", ("static_{suffix}",), trainable=False),
        Method("nri", "NRI", ("{suffix}",)),
        Method("sugar", "SUGAR (NRI + hard sym + degree prior, ours)",
               ("sugar_{suffix}",)),
        Method("modular_meta", "ModularMeta (ours, after Alet et al.)",
               ("modular_meta_{suffix}",)),
        Method("nri_mpm", "NRI-MPM", ("mpm_{suffix}",)),
        Method("supervised", "Supervised", ("supervised_{suffix}",), acc_key="acc"),
        Method("true_graph", "NRI-MPM (true graph)", ("true_graph_{suffix}",)),
        Method("mpm_wo_ri", "w/o RI", ("mpm_{suffix}", "mpm_wo_ri")),
        Method("mpm_wo_intra_ri", "w/o intra-RI", ("mpm_{suffix}", "mpm_wo_intra_ri")),
        Method("mpm_wo_inter_ri", "w/o inter-RI", ("mpm_{suffix}", "mpm_wo_inter_ri")),
        Method("mpm_wo_st", "w/o ST", ("mpm_{suffix}", "mpm_wo_st")),
        Method("mpm_wo_sym", "w/o Sym", ("mpm_{suffix}", "mpm_wo_sym")),
        Method("mpm_hard_sym", "w/ hard Sym", ("mpm_{suffix}", "mpm_hard_sym")),
    )
}  # fmt: skip


def lambda_method(value: float) -> Method:
    """NRI-MPM with the symmetric-prior weight ``model.sym_lambda = value`` (Fig. 9)."""
    return Method(
        f"nri_mpm_lambda{value:g}",
        f"NRI-MPM, lambda {value:g}",
        ("mpm_{suffix}",),
        overrides=(f"model.sym_lambda={float(value)!r}",),
    )


@dataclass(frozen=True)
class Table:
    """A table: rows = methods, columns = data sets x metrics.

    Attributes:
        name: ``table1`` ...
        title: caption.
        methods: row keys of :data:`METHODS`, in the paper's order.
        datasets: column groups.
        metrics: per data set: ``acc`` (headline accuracy, %), ``mse_1``, ``mse_10``,
            ``mse_20``.
    """

    name: str
    title: str
    methods: tuple[str, ...]
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]


TABLES: dict[str, Table] = {
    "table1": Table(
        "table1",
        "Table 1: accuracy (%) of relation reconstruction",
        ("correlation", "nri", "sugar", "modular_meta", "nri_mpm", "supervised"),
        DATASETS,
        ("acc",),
    ),
    "table2": Table(
        "table2",
        "Table 2: MSE of future states after 1 / 10 / 20 steps, 5 objects "
        "(normalised units)",
        ("static", "lstm", "nri", "sugar", "modular_meta", "nri_mpm", "true_graph"),
        ("springs5", "charged5", "kuramoto5"),
        ("mse_1", "mse_10", "mse_20"),
    ),
    "table3": Table(
        "table3",
        "Table 3: ablation study on Charged 10 (accuracy %, MSE after 1 / 10 / 20 steps)",
        ("mpm_wo_ri", "mpm_wo_intra_ri", "mpm_wo_inter_ri", "mpm_wo_st", "mpm_wo_sym",
         "mpm_hard_sym", "nri_mpm"),
        ("charged10",),
        ("acc", "mse_1", "mse_10", "mse_20"),
    ),
}  # fmt: skip

METRIC_LABELS = {
    "acc": "acc. %",
    "mse_1": "MSE 1",
    "mse_10": "MSE 10",
    "mse_20": "MSE 20",
}


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figure:
    """A figure: which cells it needs (methods x data sets; first seed only when
    ``first_seed_only``)."""

    name: str
    title: str
    methods: tuple[str, ...]
    datasets: tuple[str, ...]
    first_seed_only: bool = False


DEFAULT_LAMBDAS: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0, 10000.0)

FIGURES: dict[str, Figure] = {
    "fig5": Figure("fig5", "Fig. 5: predicted and true Kuramoto trajectories",
                   ("lstm", "nri_mpm"), ("kuramoto5",), first_seed_only=True),
    "fig6": Figure("fig6", "Fig. 6: seconds per training epoch",
                   ("nri", "sugar", "modular_meta", "nri_mpm"),
                   ("springs5", "springs10")),
    "fig7": Figure("fig7", "Fig. 7: predicted relations on Charged 10",
                   ("nri_mpm", "mpm_wo_ri", "nri"), ("charged10",),
                   first_seed_only=True),
    "fig8": Figure("fig8", "Fig. 8: MSE over 40 prediction steps on Charged 10",
                   TABLES["table3"].methods, ("charged10",)),
    "fig9": Figure("fig9", "Fig. 9: accuracy and asymmetry rate against lambda",
                   (), ("charged10",)),
}  # fmt: skip


# ---------------------------------------------------------------------------- scales


@dataclass(frozen=True)
class Scale:
    """Data sizes and training settings of a run of the experiments.

    Attributes:
        name: ``cpu``, ``paper`` or ``tiny``.
        n_train, n_valid, n_test: simulations per split (test: 99 frames).
        presets: extra presets of trainable methods (``cpu``: 20 epochs, bf16, 2 threads).
        overrides: extra ``section.key=value`` settings of trainable methods.
        model_overrides: per model name (``nri``, ``sugar``, ``nri_mpm``, ``lstm``),
            settings applied to the trainable cells of that model; a key
            ``model:system`` (``nri_mpm:springs``) adds settings for that model on
            one system only.
        model_presets: presets added after ``presets`` for the trainable cells of a
            model (keys as ``model_overrides``), before the settings.
        data_seed: seed of the simulations (the same data for every training seed).
    """

    name: str
    n_train: int
    n_valid: int
    n_test: int
    presets: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    model_overrides: dict[str, tuple[str, ...]] = field(default_factory=dict)
    data_seed: int = 42
    model_presets: dict[str, tuple[str, ...]] = field(default_factory=dict)


SCALES: dict[str, Scale] = {
    # the papers' sizes: 50k / 10k / 10k simulations, 500 epochs, batch 128 (a GPU)
    "paper": Scale("paper", 50_000, 10_000, 10_000, (),
                   ("train.progress_bar=false",)),
    # 2 CPU cores: 2000 / 500 / 500 simulations (as `nri demo`), the `cpu` preset
    # (20 epochs of batch 16, decoder window 21, bf16 where native, 2 threads)
    "cpu": Scale("cpu", 2000, 500, 500, ("cpu",), ("train.progress_bar=false",)),
    # about one hour of 2 CPU cores per cell, data included (docs/training.md): 5x the
    # simulations (they cost seconds), epochs per model from the measured cost of an
    # epoch of the cpu recipe on an AVX2 EPYC (NRI ~4.2 ms, NRI-MPM ~40 ms per training
    # sample and thread): NRI and SUGAR 40 epochs (about 30 min), NRI-MPM 8 (about 55),
    # the supervised encoder (an nri_mpm model) 8 as well, the LSTM 20. NRI-MPM on
    # springs with type 0 as "no interaction", as NRI's springs presets have it: without
    # it 2 of 3 seeds stay on the 50 % plateau for 10 epochs (docs/mpm.md). NRI on
    # springs: the anneal_long schedule and box augmentation, 60 epochs (0.98 on 3
    # seeds after 29-33; docs/training.md).
    "cpu-hour": Scale(
        "cpu-hour", 10_000, 1000, 1000, ("cpu",), ("train.progress_bar=false",),
        {
            "nri": ("train.epochs=40",),
            "sugar": ("train.epochs=40",),
            "nri_mpm": ("train.epochs=8",),
            "nri_mpm:springs": ("model.skip_first=true",),
            "nri:springs": ("train.epochs=60",),
            "lstm": ("train.epochs=20",),
        },
        model_presets={"nri:springs": ("anneal_long",)},
    ),
    # tests: a few dozen simulations, one epoch, tiny networks
    "tiny": Scale(
        "tiny", 24, 16, 16, ("cpu",),
        ("train.progress_bar=false", "train.epochs=1", "train.batch_size=8",
         "train.threads=1", "train.precision=32-true"),
        {
            "nri": ("model.encoder_hidden_dim=8", "model.decoder_hidden_dim=8"),
            "sugar": ("model.encoder_hidden_dim=8", "model.decoder_hidden_dim=8"),
            "modular_meta": ("model.encoder_hidden_dim=8", "model.decoder_hidden_dim=8",
                             "model.val_search_steps=1", "model.test_search_steps=2"),
            "nri_mpm": ("model.hidden_dim=8",),
            "lstm": ("model.hidden_dim=4",),
        },
    ),
}  # fmt: skip


# ------------------------------------------------------------------ the paper's numbers


@dataclass(frozen=True)
class PaperValue:
    """A number quoted from the paper: ``text`` exactly as printed (with ``*`` where
    the paper marks it "not available in the original papers")."""

    text: str

    @property
    def starred(self) -> bool:
        return self.text.endswith("*")

    @property
    def mean(self) -> float:
        head = self.text.rstrip("* ").split("+-")[0].strip()
        return math.nan if head in ("-", "") else float(head)

    @property
    def std(self) -> float:
        parts = self.text.rstrip("* ").split("+-")
        return float(parts[1]) if len(parts) > 1 else math.nan


def _row(values: str) -> list[str]:
    return [v.strip() for v in values.split("|")]


_T1 = {  # accuracy (%); columns of DATASETS
    "correlation": "52.4 +- 0.0 | 55.8 +- 0.0 | 62.8 +- 0.0 | 50.4 +- 0.0 | 51.4 +- 0.0 | 59.3 +- 0.0",  # noqa: E501
    "nri": "99.9 +- 0.0 | 82.1 +- 0.6 | 96.0 +- 0.1 | 98.4 +- 0.0 | 70.8 +- 0.4 | 75.7 +- 0.3",
    "sugar": "99.9 +- 0.0 * | 82.9 +- 0.8 * | 91.8 +- 0.1 * | 98.3 +- 0.0 * | 72.0 +- 0.9 * | 74.0 +- 0.2 *",  # noqa: E501
    "modular_meta": "99.9 | 88.4 | 96.2 +- 0.3 * | 98.8 +- 0.0 * | 63.8 +- 0.1 * | 89.6 +- 0.1 *",
    "nri_mpm": "99.9 +- 0.0 | 93.3 +- 0.5 | 97.3 +- 0.2 | 99.1 +- 0.0 | 81.6 +- 0.2 | 80.3 +- 0.6",
    "supervised": "99.9 +- 0.0 | 95.4 +- 0.1 | 99.3 +- 0.0 | 99.4 +- 0.0 | 89.7 +- 0.1 | 94.3 +- 0.8",  # noqa: E501
}  # fmt: skip
_T2 = {  # MSE; springs 1/10/20, charged 1/10/20, kuramoto 1/10/20
    "lstm": "4.13e-8 | 2.19e-5 | 7.02e-4 | 1.68e-3 | 6.45e-3 | 1.49e-2 | 3.44e-4 | 1.29e-2 | 4.74e-2",  # noqa: E501
    "nri": "3.12e-8 | 3.29e-6 | 2.13e-5 | 1.05e-3 | 3.21e-3 | 7.06e-3 | 1.40e-2 | 2.01e-2 | 3.26e-2",  # noqa: E501
    "sugar": "3.71e-8 * | 3.86e-6 * | 1.53e-5 * | 1.18e-3 * | 3.43e-3 * | 7.38e-3 * | 2.12e-2 * | 9.45e-2 * | 1.83e-1 *",  # noqa: E501
    "modular_meta": "3.13e-8 | 3.25e-6 | - | 1.03e-3 | 3.11e-3 | - | 2.35e-2 * | 1.10e-1 * | 1.96e-1 *",  # noqa: E501
    "nri_mpm": "8.89e-9 | 5.99e-7 | 2.52e-6 | 7.29e-4 | 2.57e-3 | 5.41e-3 | 1.57e-2 | 2.73e-2 | 5.36e-2",  # noqa: E501
    "true_graph": "1.60e-9 | 9.06e-9 | 1.50e-7 | 8.06e-4 | 2.51e-3 | 5.66e-3 | 1.73e-2 | 2.49e-2 | 4.09e-2",  # noqa: E501
}  # fmt: skip
_T3 = {  # charged10: accuracy (%), MSE 1 / 10 / 20
    "mpm_wo_ri": "77.5 +- 0.2 | 8.07e-4 | 4.13e-3 | 1.13e-2",
    "mpm_wo_intra_ri": "80.5 +- 0.4 | 7.83e-4 | 3.90e-3 | 1.26e-2",
    "mpm_wo_inter_ri": "78.3 +- 0.7 | 7.71e-4 | 4.11e-3 | 1.13e-2",
    "mpm_wo_st": "74.0 +- 0.5 | 1.26e-3 | 4.92e-3 | 1.38e-2",
    "mpm_wo_sym": "79.3 +- 0.7 | 7.60e-4 | 3.77e-3 | 1.06e-2",
    "mpm_hard_sym": "80.4 +- 0.5 | 7.96e-4 | 3.83e-3 | 1.04e-2",
    "nri_mpm": "81.6 +- 0.2 | 7.52e-4 | 3.80e-3 | 1.03e-2",
}  # fmt: skip


def _paper() -> dict[tuple[str, str, str, str], PaperValue]:
    out: dict[tuple[str, str, str, str], PaperValue] = {}
    for method, values in _T1.items():
        for suffix, text in zip(DATASETS, _row(values), strict=True):
            out["table1", method, suffix, "acc"] = PaperValue(text)
    cols = [(s, m) for s in ("springs5", "charged5", "kuramoto5")
            for m in ("mse_1", "mse_10", "mse_20")]  # fmt: skip
    for method, values in _T2.items():
        for (suffix, metric), text in zip(cols, _row(values), strict=True):
            if text != "-":
                out["table2", method, suffix, metric] = PaperValue(text)
    for method, values in _T3.items():
        for metric, text in zip(TABLES["table3"].metrics, _row(values), strict=True):
            out["table3", method, "charged10", metric] = PaperValue(text)
    return out


PAPER: dict[tuple[str, str, str, str], PaperValue] = _paper()
"""(table, method, data set, metric) -> the paper's number (accuracy in %)."""


def paper_value(table: str, method: str, suffix: str, metric: str) -> PaperValue | None:
    """The paper's number for a cell of a table, or None where the paper has none."""
    return PAPER.get((table, method, suffix, metric))
