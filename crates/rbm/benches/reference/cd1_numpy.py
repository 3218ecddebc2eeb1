"""The same CD-1 update as `cargo run --release -p rbm --example bench_cd1`, in NumPy.

1600 -> 400 Bernoulli units, batch 100, float32, L1 2e-4 (scaled by the learning rate),
momentum 0.5, learning rate 0.1; reconstruction error and free energies computed as in the
Rust step. Prints `samples_per_s <number>` as its last line.

    pip install numpy && python3 crates/rbm/benches/reference/cd1_numpy.py
"""

import time

import numpy as np

NV, NH, BATCH, STEPS, WARMUP = 1600, 400, 100, 200, 20
rng = np.random.default_rng(1)
data = [(rng.random((BATCH, NV)) < 0.5).astype(np.float32) for _ in range(8)]
W = (0.01 * rng.standard_normal((NV, NH))).astype(np.float32)
a = np.zeros(NV, np.float32)
b = np.zeros(NH, np.float32)
vel = [np.zeros_like(W), np.zeros_like(a), np.zeros_like(b)]
lr, mom, l1 = np.float32(0.1), np.float32(0.5), np.float32(2e-4)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0.0, x)


def step(v0):
    global W, a, b
    x0 = v0 @ W + b
    ph0 = sigmoid(x0)
    h0 = (rng.random(ph0.shape, dtype=np.float32) < ph0).astype(np.float32)
    vin = h0 @ W.T + a
    recon = sigmoid(vin)
    err = np.mean((recon - v0) ** 2)
    v1 = (rng.random(vin.shape, dtype=np.float32) < recon).astype(np.float32)
    x1 = v1 @ W + b
    ph1 = sigmoid(x1)
    gw = (v0.T @ ph0 - v1.T @ ph1) / BATCH
    ga = (v0 - v1).mean(0)
    gb = (ph0 - ph1).mean(0)
    f0 = -(v0 @ a + softplus(x0).sum(1)).mean()
    f1 = -(v1 @ a + softplus(x1).sum(1)).mean()
    grads = [-gw + l1 * np.sign(W), -ga, -gb]
    for i, (p, g) in enumerate(zip((W, a, b), grads)):
        vel[i] = mom * vel[i] + g
        p -= lr * vel[i]
    return err, f0, f1


for i in range(WARMUP):
    step(data[i % 8])
start = time.perf_counter()
for i in range(STEPS):
    step(data[i % 8])
seconds = time.perf_counter() - start
print(f"numpy {np.__version__}: {1e3 * seconds / STEPS:.3f} ms/step")
print(f"samples_per_s {STEPS * BATCH / seconds:.0f}")
