"""A plain PyTorch training loop around our NRI module, for controlled comparisons.

The probes behind the ``cpu`` preset (docs/training.md): the same model as ``nri train``
with one thing changed at a time (batch size, decoder window, learning rate and decay,
augmentation), or the original code's batches and noise (``--shuffle 0 --noise global``:
no shuffling, Gumbel noise from the global generator). Validation is the encoder's edge
accuracy only; each epoch appends (epoch, accuracy, process CPU-seconds, wall seconds)
to the JSON written to ``--out``. ``--data`` is an NRI-layout springs5 directory.

Run::

    OMP_NUM_THREADS=1 python benchmarks/plain_loop.py --data DIR --bf16 0 --seed 1 \
        --shuffle 1 --noise step --batch 16 --win 21 --epochs 10 --out s16_seed1.json
"""

import argparse
import json
import time

import torch

from nri.data.dataset import load_dataset
from nri.models.configs import NRIConfig
from nri.models.nri import NRI
from nri.training.module import step_seed

p = argparse.ArgumentParser(description="plain training loop probe")
p.add_argument("--data", default="benchmarks/.data/springs5_ref7")
p.add_argument("--seed", type=int, default=42)
p.add_argument("--epochs", type=int, default=10)
p.add_argument("--shuffle", type=int, default=0)
p.add_argument("--noise", default="global")  # global | step
p.add_argument("--bf16", type=int, default=0)
p.add_argument("--lr", type=float, default=5e-4)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--norm", default="n_in")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--win", type=int, default=0)
p.add_argument("--win_epochs", type=int, default=0)  # window only for the first N
p.add_argument("--warmup", type=int, default=0)
p.add_argument("--nllscale", type=int, default=1)
p.add_argument("--aug", type=int, default=0)
p.add_argument("--stop", type=float, default=2.0)
p.add_argument("--decay_every", type=int, default=0)
p.add_argument("--decay_start", type=int, default=0)
p.add_argument("--out", required=True)
a = p.parse_args()
torch.set_num_threads(a.threads)
d = load_dataset(a.data, "springs5")
torch.manual_seed(a.seed)
model = NRI(NRIConfig(skip_first=True, edge_to_node_norm=a.norm))
opt = torch.optim.Adam(model.parameters(), lr=a.lr)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: min(1.0, (s + 1) / a.warmup) if a.warmup else 1.0
)
if a.aug:
    from nri.data.augment import BoxSymmetry

    sym = BoxSymmetry.from_normalizer(d.normalizer)
xt, et = d.train.x, d.train.edges
xv, ev = d.valid.x, d.valid.edges
curve = []
step = 0
t0 = time.process_time()
w0 = time.perf_counter()
for ep in range(a.epochs):
    if (
        a.decay_every
        and ep >= a.decay_start
        and (ep - a.decay_start) % a.decay_every == 0
        and ep > 0
    ):
        for g in opt.param_groups:
            g["initial_lr"] = g.get("initial_lr", a.lr) * 0.5
        sched.base_lrs = [b * 0.5 for b in sched.base_lrs]
    model.train()
    if a.shuffle:
        g = torch.Generator().manual_seed(a.seed * 100003 + ep)
        perm = torch.randperm(len(xt), generator=g)
    else:
        perm = torch.arange(len(xt))
    for i in range(0, len(xt), a.batch):
        idx = perm[i : i + a.batch]
        x = xt[idx]
        gen = None
        if a.noise == "step":
            gen = torch.Generator().manual_seed(step_seed(a.seed, step))
        if a.aug:
            x = sym.random(x, gen)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
            if a.win and not (a.win_epochs and ep >= a.win_epochs):
                lg = model.encode(x)
                z = model.sample_edges(lg.logits, False, gen)
                s0 = (
                    int(torch.randint(0, 49 - a.win + 1, (1,), generator=gen))
                    if gen is not None
                    else int(torch.randint(0, 49 - a.win + 1, (1,)))
                )
                xw = x[:, :, s0 : s0 + a.win]
                pred = model.predict(xw, z, 10)
                from nri.losses import gaussian_nll

                nll = gaussian_nll(pred, xw[:, :, 1:], 5e-5)
                if a.nllscale:
                    nll = nll * 48 / (a.win - 1)
                loss = nll + sum(p.weight * p(lg.logits, lg.q) for p in model.priors)
            else:
                loss = model.loss(x, generator=gen).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        step += 1
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xv), 256):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
                lg = model.encode(xv[i : i + 256]).logits
            correct += (lg.argmax(-1) == ev[i : i + 256]).sum().item()
    acc = correct / ev.numel()
    curve.append(
        {
            "epoch": ep + 1,
            "acc": acc,
            "cpu": time.process_time() - t0,
            "wall": time.perf_counter() - w0,
        }
    )
    print(ep + 1, round(acc, 3), flush=True)
    if acc >= a.stop:
        break
json.dump({"args": vars(a), "curve": curve}, open(a.out, "w"))
