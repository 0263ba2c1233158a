"""Training-step speed of NRI (MLP encoder + MLP decoder, springs5, batch 128).

Measures samples/s of one full training step (forward, backward, Adam) of:

* ``original``: a straightforward re-implementation of the original code's computation
  (dense one-hot ``rel_rec``/``rel_send`` matrix products, a Python loop over edge types,
  one ``[B*S, E, 2F]`` message MLP per type, float32), written here for comparison only;
* ``nri fp32`` and ``nri bf16``: our model (index gather, stacked per-type weights,
  first message layer applied per node before the gather), in float32 and under
  ``torch.autocast(bfloat16)``.

All three run in the same process, interleaved, with the same thread count; the table
gives medians and ratios to ``original``.

Run:
    .venv/bin/python benchmarks/train_step.py [--threads 2] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from nri.models import NRI, NRIConfig


class _RefMLP(nn.Module):
    def __init__(self, n_in: int, n_hid: int, n_out: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(n_in, n_hid), nn.Linear(n_hid, n_out)
        self.bn = nn.BatchNorm1d(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.elu(self.fc2(F.elu(self.fc1(x))))
        shape = x.shape
        return self.bn(x.reshape(-1, shape[-1])).view(shape)


class OriginalStyleNRI(nn.Module):
    """The original computation (dense relation matrices, per-type loop), float32."""

    def __init__(self, n: int = 5, t: int = 49, f: int = 4, h: int = 256) -> None:
        super().__init__()
        off = 1 - torch.eye(n)
        recv, send = torch.nonzero(off, as_tuple=True)
        self.register_buffer("rel_rec", F.one_hot(recv, n).float())  # [E, N]
        self.register_buffer("rel_send", F.one_hot(send, n).float())
        self.mlp1, self.mlp2 = _RefMLP(t * f, h, h), _RefMLP(2 * h, h, h)
        self.mlp3, self.mlp4 = _RefMLP(h, h, h), _RefMLP(3 * h, h, h)
        self.fc_out = nn.Linear(h, 2)
        self.msg1 = nn.ModuleList([nn.Linear(2 * f, h) for _ in range(2)])
        self.msg2 = nn.ModuleList([nn.Linear(h, h) for _ in range(2)])
        self.out1, self.out2 = nn.Linear(f + h, h), nn.Linear(h, h)
        self.out3 = nn.Linear(h, f)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        b, n = x.shape[:2]
        h = self.mlp1(x.reshape(b, n, -1))
        e = torch.cat([self.rel_send @ h, self.rel_rec @ h], dim=2)
        h = self.mlp2(e)
        skip = h
        h = self.mlp3(self.rel_rec.t() @ h / n)
        h = self.mlp4(torch.cat([self.rel_send @ h, self.rel_rec @ h, skip], dim=2))
        return self.fc_out(h)

    def step(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        # x [B, S, N, F] (the original keeps time before nodes), z [B, S, E, K]
        pre = torch.cat([self.rel_send @ x, self.rel_rec @ x], dim=-1)
        msgs = torch.zeros(*pre.shape[:-1], 256)
        for k in range(1, 2):  # skip_first
            m = F.relu(self.msg2[k](F.relu(self.msg1[k](pre))))
            msgs = msgs + m * z[..., k : k + 1]
        agg = (msgs.transpose(-2, -1) @ self.rel_rec).transpose(-2, -1)
        h = F.relu(self.out2(F.relu(self.out1(torch.cat([x, agg], dim=-1)))))
        return x + self.out3(h)

    def loss(self, x: torch.Tensor, pred_steps: int = 10) -> torch.Tensor:
        logits = self.encode(x)
        z = F.gumbel_softmax(logits, tau=0.5)
        xs = x.transpose(1, 2)  # [B, T, N, F]
        t = xs.shape[1]
        starts = xs[:, 0::pred_steps]  # [B, S, N, F]
        zz = z[:, None].expand(-1, starts.shape[1], -1, -1)
        preds, cur = [], starts
        for _ in range(pred_steps):
            cur = self.step(cur, zz)
            preds.append(cur)
        pred = torch.stack(preds, dim=2).flatten(1, 2)[:, : t - 1]  # [B, T-1, N, F]
        nll = ((pred - xs[:, 1:]) ** 2).sum() / (2 * 5e-5) / (x.shape[0] * x.shape[1])
        q = torch.softmax(logits, -1)
        return nll + (q * torch.log(q + 1e-16)).sum() / (x.shape[0] * x.shape[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = (torch.rand(args.batch, 5, 49, 4) * 2 - 1) * 0.5

    ours = NRI(NRIConfig(skip_first=True))
    orig = OriginalStyleNRI()
    variants = {
        "original": (orig, False),
        "nri fp32": (ours, False),
        "nri bf16": (ours, True),
    }
    opts = {
        name: torch.optim.Adam(m.parameters(), lr=5e-4)
        for name, (m, _) in variants.items()
    }

    def step(name: str) -> float:
        model, bf16 = variants[name]
        opt = opts[name]
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model.loss(x) if name == "original" else model.loss(x).loss
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    for name in variants:  # warm-up
        step(name)
        step(name)
    times: dict[str, list[float]] = {name: [] for name in variants}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):
        for name in variants:
            times[name].append(step(name))
    load_after = os.getloadavg()[0]

    base = statistics.median(times["original"])
    print(f"threads {args.threads}, batch {args.batch}, repeats {args.repeats}, "
          f"load average {load_before:.2f} -> {load_after:.2f}")  # fmt: skip
    print(f"{'variant':<10} {'s/step':>8} {'samples/s':>10} {'vs original':>12}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<10} {med:>8.3f} {args.batch / med:>10.0f} {base / med:>11.2f}x")


if __name__ == "__main__":
    main()
