"""The Fig. 3 pipeline of `fig3 --preset paper`, in PyTorch (CPU), for timing it against ours.

Greedy layer-wise CD-1 of the 1600-400-100-25 stack on a stored dataset (the folder `fig3`
writes under `datasets/`, e.g. `datasets/ising2d-L40-K0.408-n40000-seed7`), with the paper
preset's settings: spins mapped to {0, 1}, 10% of the rows held out, batches of 100 in a
shuffled order each epoch, learning rate 0.1, momentum 0.5 through torch.optim.SGD
(dampening 0), L1 2e-4 added to the gradient (learning-rate-scaled, as in `rbm`), weights
N(0, 0.01^2), visible biases from the data's log-odds, hidden biases 0; after each epoch the
held-out reconstruction error and mean free energy (one pass, as `fig3` logs them); the next
layer's data are the trained layer's hidden probabilities. It does not write checkpoints,
metrics files or figures, which `fig3` does. Prints the seconds per layer and in all.

    pip install torch
    python3 crates/rbm/benches/reference/fig3_torch.py datasets/ising2d-L40-K0.408-n40000-seed7 [--epochs 200]
"""

import argparse
import ast
import time
from pathlib import Path

import torch

LAYERS = [1600, 400, 100, 25]
BATCH, LR, MOMENTUM, L1, VALID_FRACTION = 100, 0.1, 0.5, 2e-4, 0.1


def load_spins(folder: Path) -> torch.Tensor:
    """spins.npy (int8, C order) as a float32 tensor of {0, 1}, one row per sample."""
    raw = (folder / "spins.npy").read_bytes()
    assert raw[:6] == b"\x93NUMPY", "not an .npy file"
    header_len = int.from_bytes(raw[8:10], "little")
    header = ast.literal_eval(raw[10 : 10 + header_len].decode("latin1"))
    assert header["descr"] in ("|i1", "<i1") and not header["fortran_order"], header
    shape = header["shape"]
    spins = torch.frombuffer(bytearray(raw[10 + header_len :]), dtype=torch.int8)
    rows = shape[0]
    return ((spins.reshape(rows, -1).float() + 1.0) / 2.0).contiguous()


@torch.no_grad()
def free_energy(v, W, a, b):
    return -(v @ a + torch.nn.functional.softplus(torch.addmm(b, v, W)).sum(1))


def train_layer(train, valid, n_hidden, epochs, generator):
    n_visible = train.shape[1]
    mean = train.mean(0).clamp(1e-3, 1 - 1e-3)
    W = (0.01 * torch.randn(n_visible, n_hidden, generator=generator)).requires_grad_()
    a = torch.log(mean / (1 - mean)).requires_grad_()
    b = torch.zeros(n_hidden, requires_grad=True)
    opt = torch.optim.SGD([W, a, b], lr=LR, momentum=MOMENTUM, dampening=0.0)
    rows = train.shape[0]
    for _ in range(epochs):
        order = torch.randperm(rows, generator=generator)
        for start in range(0, rows - BATCH + 1, BATCH):
            v0 = train[order[start : start + BATCH]]
            with torch.no_grad():
                x0 = torch.addmm(b, v0, W)
                ph0 = torch.sigmoid(x0)
                h0 = (torch.rand(ph0.shape, generator=generator) < ph0).float()
                recon = torch.sigmoid(torch.addmm(a, h0, W.t()))
                v1 = (torch.rand(recon.shape, generator=generator) < recon).float()
                ph1 = torch.sigmoid(torch.addmm(b, v1, W))
                gw = torch.addmm(v1.t() @ ph1, v0.t(), ph0, alpha=-1.0) / BATCH
                W.grad = gw.add_(torch.sign(W), alpha=L1)
                a.grad = (v1 - v0).mean(0)
                b.grad = (ph1 - ph0).mean(0)
            opt.step()
        # Held-out statistics once per epoch, as fig3 logs them.
        with torch.no_grad():
            ph = torch.sigmoid(torch.addmm(b, valid, W))
            h = (torch.rand(ph.shape, generator=generator) < ph).float()
            recon = torch.sigmoid(torch.addmm(a, h, W.t()))
            _ = (((recon - valid) ** 2).mean().item(), free_energy(valid, W, a, b).mean().item())
    with torch.no_grad():
        return torch.sigmoid(torch.addmm(b, train, W)), torch.sigmoid(torch.addmm(b, valid, W))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(args.seed)
    data = load_spins(args.dataset)
    n_valid = round(VALID_FRACTION * data.shape[0])
    train, valid = data[n_valid:], data[:n_valid]
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads, "
        f"{torch.backends.cpu.get_cpu_capability()}): {train.shape[0]} training rows, "
        f"{valid.shape[0]} held out, {args.epochs} epochs per layer"
    )
    start = time.perf_counter()
    for layer, n_hidden in enumerate(LAYERS[1:], start=1):
        t0 = time.perf_counter()
        train, valid = train_layer(train, valid, n_hidden, args.epochs, generator)
        print(f"layer {layer} ({train.shape[1]} hidden): {time.perf_counter() - t0:.1f} s")
    print(f"total_seconds {time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
