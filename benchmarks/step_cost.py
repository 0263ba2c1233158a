"""Cost of one NRI training step by precision, batch size and decoder window.

The table behind docs/training.md ("Where a step's time goes"): our NRI module with
Adam, one optimiser step on consecutive batches of the springs5 training set, the
decoder on the first ``window`` frames (10-step teacher forcing), median wall and CPU
milliseconds per step after two warm-up steps, and the seconds an epoch of 2000
samples would take. Run on an otherwise idle machine; compare rows of one run.

Run::

    python benchmarks/step_cost.py --threads 2
"""

import argparse
import statistics
import time

import torch

from nri.data.dataset import load_dataset
from nri.losses import gaussian_nll
from nri.models.configs import NRIConfig
from nri.models.nri import NRI

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--data", default="benchmarks/.data/springs5_ref7")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64, 128])
p.add_argument("--windows", type=int, nargs="+", default=[21, 49])
p.add_argument("--samples", type=int, default=640, help="samples timed per row")
a = p.parse_args()
torch.set_num_threads(a.threads)
xt = load_dataset(a.data, "springs5").train.x  # [S, N, 49, F]
print("| precision | batch | window | ms per step | CPU-ms per step | s per epoch |")
print("|---|---:|---:|---:|---:|---:|")
for bf16 in (True, False):
    for batch in a.batches:
        for win in a.windows:
            torch.manual_seed(0)
            model = NRI(NRIConfig(skip_first=True))
            opt = torch.optim.Adam(model.parameters(), lr=5e-4)
            wall, cpu = [], []
            for i in range(max(3, a.samples // batch + 2)):
                x = xt[(i * batch) % len(xt) :][:batch]
                w0, c0 = time.perf_counter(), time.process_time()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = model.encode(x)
                    z = model.sample_edges(logits.logits, False, None)
                    pred = model.predict(x[:, :, :win], z, 10)
                    nll = gaussian_nll(pred, x[:, :, 1:win], 5e-5)
                    loss = nll + sum(
                        p.weight * p(logits.logits, logits.q) for p in model.priors
                    )
                opt.zero_grad()
                loss.backward()
                opt.step()
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
            w, c = statistics.median(wall[2:]), statistics.median(cpu[2:])
            print(f"| {'bf16' if bf16 else 'fp32'} | {batch} | {win} | {w * 1e3:.1f} | "
                  f"{c * 1e3:.1f} | {w * 2000 / batch:.2f} |", flush=True)  # fmt: skip
