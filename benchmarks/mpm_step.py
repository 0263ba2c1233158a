"""Training-step speed of NRI-MPM (springs5 or charged5 settings, batch 128).

Samples/s of one full training step (forward, backward, Adam) of NRI-MPM with
``--reducer mlp`` (springs settings, the default) or ``--reducer cnn`` (charged):

* ``original-style``: our relation-interaction encoder in float32 with a decoder written
  the way the reference code computes it (spec/nri-mpm.md 4.1): dense one-hot
  ``rel_rec``/``rel_send`` products, a Python loop over edge types, and GRUs built
  from six separate ``Linear`` maps, float32. For comparison only; the encoder is
  about 5 % of the step (spec 11), so it is shared;
* ``ours fp32, nn.GRUCell``: our model with PyTorch's GRU cells in the decoder;
* ``ours bf16, nn.GRUCell``: the same under ``torch.autocast(bfloat16)``;
* ``ours fp32`` and ``ours bf16``: our model as shipped (fused GRU cells,
  :mod:`nri.nn.gru`).

All run in one process, interleaved, with the same thread count and the same data;
the table gives medians and ratios to ``original-style`` and to the spec's anchor
for the original code on this machine class (3.05 s springs, 4.05 s charged).

Run:
    .venv/bin/python benchmarks/mpm_step.py [--reducer mlp|cnn] [--threads 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from nri.models import NRIMPM
from nri.models.configs import MPMConfig

ANCHOR_S = {"mlp": 3.05, "cnn": 4.05}  # spec/nri-mpm.md 11, original code, 2 threads


class _SixLinearGRU(nn.Module):
    """The reference's GRU: six Linear maps (three on the input, three on the hidden)."""

    def __init__(self, n_in: int, h: int) -> None:
        super().__init__()
        self.ir, self.iz, self.inn = (nn.Linear(n_in, h) for _ in range(3))
        self.hr, self.hz, self.hn = (nn.Linear(h, h) for _ in range(3))

    def forward(self, u: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        r = torch.sigmoid(self.ir(u) + self.hr(h))
        z = torch.sigmoid(self.iz(u) + self.hz(h))
        n = torch.tanh(self.inn(u) + r * self.hn(h))
        return (1 - z) * n + z * h


class OriginalStyleSTDecoder(nn.Module):
    """RNNDEC computed as the reference does (float32, dense relation matrices)."""

    def __init__(self, n: int, f: int = 4, k: int = 2, h: int = 256) -> None:
        super().__init__()
        off = 1 - torch.eye(n)
        recv, send = torch.nonzero(off, as_tuple=True)
        self.register_buffer("rel_rec", F.one_hot(recv, n).float())  # [E, N]
        self.register_buffer("rel_send", F.one_hot(send, n).float())
        self.msg1 = nn.ModuleList([nn.Linear(2 * f, h) for _ in range(k)])
        self.msg2 = nn.ModuleList([nn.Linear(h, h) for _ in range(k)])
        self.gru_edge = _SixLinearGRU(h, h)
        self.gru_node = _SixLinearGRU(f + h, f + h)
        self.out1, self.out2 = nn.Linear(f + h, h), nn.Linear(h, h)
        self.out3 = nn.Linear(h, f)
        self.k = k

    def step(self, x, z, m_prev, c_prev):  # noqa: ANN001, ANN201
        # x [B, S, N, F] (the reference keeps time before objects), z [B, E, K]
        recv = torch.matmul(self.rel_rec, x)  # [B, S, E, F]
        send = torch.matmul(self.rel_send, x)
        pre = torch.cat([send, recv], dim=-1)
        msg = torch.zeros(*pre.shape[:-1], self.msg2[0].out_features)
        for i in range(self.k):
            m = F.relu(self.msg2[i](F.relu(self.msg1[i](pre))))
            msg = msg + m * z[:, None, :, i : i + 1] / self.k
        if m_prev is not None:
            msg = self.gru_edge(msg, m_prev)
        agg = torch.matmul(self.rel_rec.t(), msg) / (x.shape[2] - 1)  # [B, S, N, H]
        c = torch.cat([x, agg], dim=-1)
        if c_prev is not None:
            c = self.gru_node(c, c_prev)
        out = self.out3(F.relu(self.out2(F.relu(self.out1(c)))))
        return x + out, msg, c

    def loss(self, x: torch.Tensor, z: torch.Tensor, m: int = 10) -> torch.Tensor:
        # x [B, N, T, F]: segments start at 0, M, 2M, ... (spec 4.2)
        xt = x.transpose(1, 2)  # [B, T, N, F]
        t = xt.shape[1]
        starts = list(range(0, t - 1, m))
        cur = xt[:, starts]  # [B, S, N, F]
        preds = []
        m_prev = c_prev = None
        for _ in range(m):
            cur, m_prev, c_prev = self.step(cur, z, m_prev, c_prev)
            preds.append(cur)
        pred = torch.stack(preds, dim=2).flatten(1, 2)[:, : t - 1]  # [B, T-1, N, F]
        return ((pred - xt[:, 1:]) ** 2).sum() / (2 * 5e-5) / x.shape[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reducer", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--objects", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b, n = args.batch, args.objects
    x = torch.randn(b, n, 49, 4)
    edges = torch.randint(0, 2, (b, n * (n - 1)))
    gen = torch.Generator().manual_seed(0)

    ours = NRIMPM(MPMConfig(reducer=args.reducer))
    plain = NRIMPM(MPMConfig(reducer=args.reducer))
    plain.decoder.gru_edge = nn.GRUCell(256, 256)  # PyTorch's cells, same function
    plain.decoder.gru_node = nn.GRUCell(260, 260)
    orig_enc = NRIMPM(MPMConfig(reducer=args.reducer)).encoder
    orig_dec = OriginalStyleSTDecoder(n)

    def orig_loss() -> torch.Tensor:
        logits = orig_enc(x).logits
        z = F.gumbel_softmax(logits, tau=0.5)
        return orig_dec.loss(x, z) + logits.logsumexp(-1).mean()

    variants = {
        "original-style (fp32)": (
            nn.ModuleList([orig_enc, orig_dec]), orig_loss, False,
        ),
        "ours fp32, nn.GRUCell": (
            plain, lambda: plain.loss(x, generator=gen, edge_types=edges).loss, False,
        ),
        "ours bf16, nn.GRUCell": (
            plain, lambda: plain.loss(x, generator=gen, edge_types=edges).loss, True,
        ),
        "ours fp32": (
            ours, lambda: ours.loss(x, generator=gen, edge_types=edges).loss, False,
        ),
        "ours bf16": (
            ours, lambda: ours.loss(x, generator=gen, edge_types=edges).loss, True,
        ),
    }  # fmt: skip
    optims = {
        k: torch.optim.Adam(v[0].parameters(), lr=1e-4) for k, v in variants.items()
    }

    def step(name: str) -> float:
        module, loss_fn, bf16 = variants[name]
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn()
        optims[name].zero_grad()
        loss.backward()
        optims[name].step()
        return time.perf_counter() - t0

    for name in variants:  # warm-up (numba kernels load, allocator settles)
        step(name)
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name in variants:
            times[name].append(step(name))

    ref = statistics.median(times["original-style (fp32)"])
    anchor = ANCHOR_S[args.reducer]
    print(
        f"NRI-MPM training step, reducer={args.reducer}, batch {b}, {n} objects, "
        f"{args.threads} threads, {args.repeats} repeats, load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"| variant | s/step (median) | min | samples/s | vs original-style "
        f"| vs original code ({anchor:.2f} s) |"
    )
    print("|---|---|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"| {name} | {med:.3f} | {min(ts):.3f} | {b / med:.0f} | {ref / med:.2f}x "
            f"| {anchor / med:.2f}x |"
        )


if __name__ == "__main__":
    main()
