"""The same CD-1 update as `cargo run --release -p rbm --example bench_cd1`, in PyTorch (CPU).

1600 -> 400 Bernoulli units, batch 100, float32, L1 2e-4 (scaled by the learning rate),
momentum 0.5 through torch.optim.SGD (dampening 0), learning rate 0.1; reconstruction error
and free energies computed as in the Rust step, as in `cd1_numpy.py`. Uses all the threads
PyTorch sees. Prints `samples_per_s <number>` as its last line.

    pip install torch && python3 crates/rbm/benches/reference/cd1_torch.py
"""

import time

import torch

NV, NH, BATCH, STEPS, WARMUP = 1600, 400, 100, 200, 20
torch.manual_seed(1)
data = [(torch.rand(BATCH, NV) < 0.5).float() for _ in range(8)]
W = (0.01 * torch.randn(NV, NH)).requires_grad_()
a = torch.zeros(NV, requires_grad=True)
b = torch.zeros(NH, requires_grad=True)
lr, l1 = 0.1, 2e-4
opt = torch.optim.SGD([W, a, b], lr=lr, momentum=0.5, dampening=0.0)


@torch.no_grad()
def step(v0):
    x0 = torch.addmm(b, v0, W)
    ph0 = torch.sigmoid(x0)
    h0 = (torch.rand_like(ph0) < ph0).float()
    vin = torch.addmm(a, h0, W.t())
    recon = torch.sigmoid(vin)
    err = torch.mean((recon - v0) ** 2)
    v1 = (torch.rand_like(recon) < recon).float()
    x1 = torch.addmm(b, v1, W)
    ph1 = torch.sigmoid(x1)
    # The descent direction, with the 1/B and the sign folded in: -(v0ᵀ ph0 - v1ᵀ ph1)/B.
    gw = torch.addmm(v1.t() @ ph1, v0.t(), ph0, alpha=-1.0) / BATCH
    W.grad = gw.add_(torch.sign(W), alpha=l1)
    a.grad = (v1 - v0).mean(0)
    b.grad = (ph1 - ph0).mean(0)
    f0 = -(v0 @ a + torch.nn.functional.softplus(x0).sum(1)).mean()
    f1 = -(v1 @ a + torch.nn.functional.softplus(x1).sum(1)).mean()
    opt.step()
    return err.item(), f0.item(), f1.item()


for i in range(WARMUP):
    step(data[i % 8])
start = time.perf_counter()
for i in range(STEPS):
    step(data[i % 8])
seconds = time.perf_counter() - start
print(f"torch {torch.__version__} ({torch.get_num_threads()} threads): {1e3 * seconds / STEPS:.3f} ms/step")
print(f"samples_per_s {STEPS * BATCH / seconds:.0f}")
