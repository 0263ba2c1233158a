import itertools
import math

import numpy as np
import pytest
import torch

from nri.metrics import (
    EdgeMetrics,
    HorizonMSE,
    Mean,
    asymmetry_count,
    auroc,
    confusion_matrix,
    permutation_accuracy,
    squared_error_by_horizon,
)


def test_confusion_matrix_skips_unknown_labels() -> None:
    pred = torch.tensor([[0, 1, 1, 0], [1, 1, 0, 0]])
    labels = torch.tensor([[0, 1, 0, -1], [1, 0, 0, 1]])
    c = confusion_matrix(pred, labels, 2, 2)
    assert c.tolist() == [[2, 1], [2, 2]]  # rows: predicted type, cols: label


def test_permutation_accuracy_swapped_labels_give_one() -> None:
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 0, 0])
    c = confusion_matrix(1 - labels, labels, 2, 2)
    raw = c.diagonal().sum() / c.sum()
    assert raw == 0.0
    acc, mapping = permutation_accuracy(c)
    assert acc == 1.0 and mapping == (1, 0)


def test_permutation_accuracy_three_types_hand_case() -> None:
    c = torch.tensor([[1, 8, 1], [0, 1, 9], [7, 2, 1]])  # type t -> label
    acc, mapping = permutation_accuracy(c)
    assert mapping == (1, 2, 0)
    assert acc == pytest.approx(24 / 30)
    # brute force agrees
    best = max(
        sum(c[t, p[t]].item() for t in range(3))
        for p in itertools.permutations(range(3))
    )
    assert acc == pytest.approx(best / 30)


def test_permutation_accuracy_many_to_one() -> None:
    c = torch.tensor([[5, 1], [0, 4], [3, 0], [1, 6]])  # K = 4 types, 2 classes
    acc, mapping = permutation_accuracy(c)
    assert mapping == (0, 1, 0, 1)
    assert acc == pytest.approx((5 + 4 + 3 + 6) / 20)


def test_auroc_hand_values_and_ties() -> None:
    assert (
        auroc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])) == 0.75
    )
    # one tie between a positive and a negative counts one half: 3.5 / 4
    assert auroc(np.array([0.2, 0.5, 0.5, 0.9]), np.array([0, 1, 0, 1])) == 0.875
    assert auroc(torch.full((6,), 0.3), torch.tensor([0, 1, 0, 1, 1, 0])) == 0.5
    assert math.isnan(auroc(torch.rand(5), torch.zeros(5)))
    # against the pairwise definition on random scores with many ties
    g = torch.Generator().manual_seed(0)
    s = torch.randint(0, 5, (300,), generator=g).double()
    y = torch.randint(0, 2, (300,), generator=g)
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    pairwise = ((diff > 0).double() + 0.5 * (diff == 0).double()).mean()
    assert auroc(s, y) == pytest.approx(float(pairwise), abs=1e-12)


def test_asymmetry_hand_case() -> None:
    # N = 3, reverse map [2, 4, 0, 5, 1, 3]: edges 0 and 2 are each other's reverse
    assert asymmetry_count(torch.tensor([[1, 0, 1, 0, 0, 0]])) == (0, 6)
    assert asymmetry_count(torch.tensor([[1, 0, 0, 0, 0, 0]])) == (2, 6)
    assert asymmetry_count(torch.tensor([[0, 1, 0, 0, 0, 0]])) == (2, 6)


def _split(n: int = 10, n_edges: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 2, (n, n_edges), generator=g)
    logits = torch.randn(n, n_edges, 2, generator=g) + 1.5 * (1 - labels)[..., None] * (
        torch.tensor([0.0, 1.0])
    )
    labels[0, :3] = -1  # a few unknown labels
    return logits, labels


def test_edge_metrics_exact_with_a_partial_last_batch() -> None:
    logits, labels = _split()
    whole = EdgeMetrics(2)
    whole.update(logits, labels)
    batched = EdgeMetrics(2)
    for i in range(0, 10, 4):  # batches of 4, 4, 2
        batched.update(logits[i : i + 4], labels[i : i + 4])
    a, b = whole.compute(), batched.compute()
    assert a == pytest.approx(b, abs=1e-12)
    known = labels >= 0
    raw = ((logits.argmax(-1) == labels) & known).sum() / known.sum()
    assert a["acc"] == pytest.approx(float(raw))
    assert a["acc_perm"] == pytest.approx(max(float(raw), 1 - float(raw)))
    assert a["n_edges"] == known.sum()
    assert batched.permutation()[1] in ((0, 1), (1, 0))
    # the reference's mean of batch means differs with a partial last batch (Q5)
    per_batch = EdgeMetrics(2, weighting="per_batch")
    for i in range(0, 10, 4):
        per_batch.update(logits[i : i + 4], labels[i : i + 4])
    assert per_batch.compute()["acc"] != pytest.approx(a["acc"], abs=1e-9)


def test_edge_metrics_auroc_score_uses_the_mapping() -> None:
    logits, labels = _split()
    m = EdgeMetrics(2)
    m.update(logits, labels)
    out = m.compute()
    _, mapping = m.permutation()
    q = torch.softmax(logits.double(), -1)
    score = q[..., mapping.index(1)]
    assert out["auroc"] == pytest.approx(auroc(score, labels))
    assert out["auroc"] > 0.5  # mapping chosen so that the score is informative
    skip = EdgeMetrics(2, skip_first=True)
    skip.update(logits, labels)
    assert skip.compute()["auroc"] == pytest.approx(auroc(1 - q[..., 0], labels))


def test_horizon_mse_exact_with_a_partial_last_batch() -> None:
    g = torch.Generator().manual_seed(2)
    pred, target = torch.randn(2, 10, 5, 20, 4, generator=g).unbind(0)
    whole = HorizonMSE()
    whole.update(*squared_error_by_horizon(pred, target))
    batched = HorizonMSE()
    for i in range(0, 10, 4):
        batched.update(*squared_error_by_horizon(pred[i : i + 4], target[i : i + 4]))
    expected = (pred.double() - target.double()).pow(2).mean(dim=(0, 1, 3))
    torch.testing.assert_close(whole.compute(), expected)
    torch.testing.assert_close(batched.compute(), expected)
    with pytest.raises(RuntimeError):
        HorizonMSE().compute()


def test_mean_accumulator() -> None:
    m = Mean()
    m.update(6.0, 3)
    m.update(1.0, 1)
    assert m.compute() == pytest.approx(7 / 4)
    pb = Mean("per_batch")
    pb.update(6.0, 3)
    pb.update(1.0, 1)
    assert pb.compute() == pytest.approx((2 + 1) / 2)


def test_more_types_than_labels_never_map_an_interaction_type_to_no_edge() -> None:
    """Issue 14 item 7: K = 3 types (skip_first: type 0 = no edge) against 0/1 labels.
    Type 2 is predicted mostly on label-0 edges; the free many-to-one map would send
    it to "no edge", the skip_first map keeps it an interaction."""
    pred = torch.tensor([[0, 1, 1, 2, 2, 2]])  # [B=1, E=6], N = 3
    labels = torch.tensor([[0, 1, 1, 0, 0, 1]])
    logits = torch.nn.functional.one_hot(pred, 3).float() * 5.0  # argmax = pred
    m = EdgeMetrics(3, skip_first=True)
    m.update(logits, labels)
    acc_perm, mapping = m.permutation()
    assert mapping == (0, 1, 1)
    out = m.compute()
    # "no edge vs any interaction": type 0 on label 0 (1) + types 1, 2 on label 1 (3)
    assert out["acc_interaction"] == pytest.approx(4 / 6) == acc_perm
    assert out["acc_all_no_edge"] == pytest.approx(0.5) == out["acc_all_edge"]
    free = EdgeMetrics(3)  # no fixed meaning: the many-to-one map of the papers
    free.update(logits, labels)
    assert free.permutation() == (pytest.approx(5 / 6), (0, 1, 0))
    assert "acc_interaction" not in free.compute()
    k3 = EdgeMetrics(3, skip_first=True)  # labels 0..2: the classes grow to 3
    k3.update(logits, torch.tensor([[0, 1, 1, 2, 2, 2]]))
    assert k3.n_classes == 3 and k3.compute()["acc"] == pytest.approx(1.0)


def test_skip_first_keeps_type_0_as_no_edge_in_the_permutation() -> None:
    """Issue 14 item 3: under skip_first type 0 means "no interaction" by construction;
    only the interaction types are relabelled (hand-made confusion, rows = types)."""
    c = torch.tensor([[5, 20, 5], [30, 5, 5], [5, 5, 25]])  # [K=3, C=3], 105 edges
    assert permutation_accuracy(c) == (pytest.approx(75 / 105), (1, 0, 2))
    assert permutation_accuracy(c, fixed_first=True) == (
        pytest.approx(35 / 105),
        (0, 1, 2),
    )
    swapped = torch.tensor([[40, 2, 3], [1, 4, 30], [2, 25, 3]])  # types 1, 2 swapped
    acc, mapping = permutation_accuracy(swapped, fixed_first=True)
    assert mapping == (0, 2, 1) and acc == pytest.approx(95 / 110)
    k2 = torch.tensor([[10, 30], [35, 25]])  # K = 2: the permuted score is the raw one
    assert permutation_accuracy(k2) == (pytest.approx(0.65), (1, 0))
    assert permutation_accuracy(k2, fixed_first=True) == (pytest.approx(0.35), (0, 1))
    m = EdgeMetrics(2, skip_first=True)
    m.confusion = k2.clone()
    assert m.permutation() == (pytest.approx(0.35), (0, 1))
    empty = permutation_accuracy(torch.zeros(3, 2, dtype=torch.int64), True)
    assert empty[1] == (0, 1, 1)
