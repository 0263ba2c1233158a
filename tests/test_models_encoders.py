import pytest
import torch

from nri import graph
from nri.models.encoders import CNNEncoder, MLPEncoder

B, N, T, F = 2, 5, 16, 4  # T >= 14 for the CNN encoder


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def edge_permutation(perm: torch.Tensor) -> torch.Tensor:
    """Edge k of the relabelled graph is edge eperm[k] of the original one."""
    n = perm.numel()
    idx = graph.to_dense(torch.arange(graph.n_edges(n)))  # [recv, send] -> edge id
    return graph.to_edges(idx[perm][:, perm])


def test_parameter_counts_match_the_spec() -> None:
    assert n_params(MLPEncoder(49, 4, 256, 2)) == 710_146
    assert n_params(MLPEncoder(49, 4, 256, 2, factor=False)) == 644_610
    assert n_params(CNNEncoder(4, 256, 2)) == 933_379


ENCODERS = {
    "mlp_factor": lambda: MLPEncoder(T, F, 16, 3),
    "mlp_nonfactor": lambda: MLPEncoder(T, F, 16, 3, factor=False),
    "cnn_factor": lambda: CNNEncoder(F, 16, 3),
    "cnn_nonfactor": lambda: CNNEncoder(F, 16, 3, factor=False),
}


@pytest.mark.parametrize("name", list(ENCODERS))
def test_shapes_softmax_and_gradients(name: str) -> None:
    torch.manual_seed(0)
    enc = ENCODERS[name]()
    logits, q = enc(torch.randn(B, N, T, F))
    assert logits.shape == q.shape == (B, N * (N - 1), 3)
    torch.testing.assert_close(q.sum(-1), torch.ones(B, N * (N - 1)))
    (logits * torch.randn_like(logits)).sum().backward()
    for pname, p in enc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", list(ENCODERS))
def test_relabelling_objects_permutes_edge_logits(name: str) -> None:
    torch.manual_seed(1)
    enc = ENCODERS[name]().double()
    x = torch.randn(B, N, T, F, dtype=torch.float64)
    enc.train()
    enc(x)  # move the BatchNorm running statistics away from their init
    enc.eval()
    perm = torch.tensor([3, 0, 4, 1, 2])
    eperm = edge_permutation(perm)
    logits = enc(x).logits
    logits_p = enc(x[:, perm]).logits
    torch.testing.assert_close(logits_p, logits[:, eperm], rtol=0, atol=1e-10)
    # sanity: the permutation really moves things
    assert not torch.allclose(logits_p, logits, atol=1e-3)


def test_edge_to_node_norm_switch_q1() -> None:
    torch.manual_seed(2)
    ours = MLPEncoder(T, F, 16, 2, edge_to_node_norm="n_in")
    ref = MLPEncoder(T, F, 16, 2, edge_to_node_norm="n_nodes")
    ref.load_state_dict(ours.state_dict())
    seen = {}
    ours.mlp3.register_forward_hook(lambda m, i, o: seen.__setitem__("ours", i[0]))
    ref.mlp3.register_forward_hook(lambda m, i, o: seen.__setitem__("ref", i[0]))
    x = torch.randn(B, N, T, F)
    ours(x)
    ref(x)
    torch.testing.assert_close(seen["ref"], seen["ours"] * (N - 1) / N)
    with pytest.raises(ValueError, match="edge_to_node_norm"):
        MLPEncoder(T, F, 16, 2, edge_to_node_norm="mean")  # type: ignore[arg-type]


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="T=16"):
        MLPEncoder(T, F, 16, 2)(torch.randn(B, N, T + 1, F))
    with pytest.raises(ValueError, match="F=4"):
        CNNEncoder(F, 16, 2)(torch.randn(B, N, T, 3))
    with pytest.raises(ValueError, match="T >= 14"):
        CNNEncoder(F, 16, 2)(torch.randn(B, N, 13, F))


def test_cnn_encoder_any_length_and_bf16_autocast() -> None:
    enc = CNNEncoder(F, 16, 2)
    assert enc(torch.randn(B, N, 49, F)).logits.shape == (B, 20, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = MLPEncoder(T, F, 16, 2)(torch.randn(B, N, T, F))
    assert out.logits.dtype == out.q.dtype == torch.float32
    assert torch.isfinite(out.logits).all()
