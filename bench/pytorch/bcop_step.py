#!/usr/bin/env python3
"""Same-run PyTorch reference for the benchmarks (issue 14, item 3).

A small PyTorch implementation of the paper's training step, written from this project's
reference-bcop.md (BCOP with the reference's Björck: 20 iterations, beta 0.5, order 1, power-iteration
scaling; BjorckLinear dense layers; MaxMin; invertible downsampling; the multi-margin hinge loss; Adam
lr 1e-3; batch 128), for MNIST-Small, MNIST-Large and CIFAR-Large. It times one training step
(forward + backward + Adam) per repeat, on one thread (torch.set_num_threads(1)), and prints one JSON
object on stdout: {"torch": version, "threads": 1, "models": {name: {"medianMs", "minMs", "samples"}}}.

Usage: python3 bench/pytorch/bcop_step.py [--models mnist-small,mnist-large,cifar-large] [--repeats 5] [--warmup 2]
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


def power_iteration_scale(w, iters=10):
    """sigma_max estimate per matrix (no gradient), from a fresh random start: w / s."""
    with torch.no_grad():
        u = torch.randn(*w.shape[:-1], 1, dtype=w.dtype)
        for _ in range(iters):
            v = w.transpose(-1, -2) @ u
            v = v / v.norm(dim=-2, keepdim=True)
            u = w @ v
            u = u / u.norm(dim=-2, keepdim=True)
        s = (u.transpose(-1, -2) @ w @ v).squeeze(-1).squeeze(-1)
    return w / s[..., None, None]


def bjorck(w, iters=20, beta=0.5):
    """First-order Björck orthonormalization, batched over leading dims, on the tall side."""
    if w.shape[-2] < w.shape[-1]:
        return bjorck(w.transpose(-1, -2), iters, beta).transpose(-1, -2)
    w = power_iteration_scale(w)
    for _ in range(iters):
        w = (1 + beta) * w - beta * w @ (w.transpose(-1, -2) @ w)
    return w


def cyclic_pad(x, k):
    """Circular padding for a k×k stride-1 'valid' conv: k//2 before (from the end), k-1-k//2 after."""
    before, after = k // 2, k - 1 - k // 2
    if before + after == 0:
        return x
    x = torch.cat([x[:, :, x.shape[2] - before:], x, x[:, :, :after]], dim=2)
    return torch.cat([x[:, :, :, x.shape[3] - before:], x, x[:, :, :, :after]], dim=3)


def block_conv(a, b):
    """Full block convolution of grids a [ka, ka', n, n] and b [kb, kb', n, n]: out[i,j] = sum a[u,v] @ b[i-u, j-v]."""
    ka, kb = a.shape[0], b.shape[0]
    kao, kbo = a.shape[1], b.shape[1]
    n = a.shape[-1]
    out = a.new_zeros(ka + kb - 1, kao + kbo - 1, n, b.shape[-1])
    for u in range(ka):
        for v in range(kao):
            for p in range(kb):
                for q in range(kbo):
                    out[u + p, v + q] = out[u + p, v + q] + a[u, v] @ b[p, q]
    return out


class BCOP(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.cin, self.cout, self.k = cin, cout, k
        self.cmax = max(cin, cout)
        num = 2 * (k - 1) + 1
        params = torch.empty(num, self.cmax, self.cmax)
        for i in range(num):
            nn.init.orthogonal_(params[i], gain=1 / math.sqrt(self.cmax))
        self.params = nn.Parameter(params)
        mask = torch.zeros(1, self.cmax)
        mask[:, : self.cmax // 2] = 1
        self.register_buffer("mask", mask)
        bound = 1 / math.sqrt(cout)
        self.bias = nn.Parameter(torch.empty(cout).uniform_(-bound, bound))

    def kernel(self):
        ortho = bjorck(self.params)
        flipped = self.cin > self.cout
        h = ortho[0, : self.cin, : self.cout]  # a slice of an orthogonal matrix: orthonormal rows or columns
        eye = torch.eye(self.cmax)
        grid = None
        for i in range(self.k - 1):
            rp = ortho[1 + 2 * i] * self.mask
            rq = ortho[2 + 2 * i] * self.mask
            p = rp @ rp.T
            q = rq @ rq.T
            pq = p @ q
            b = torch.stack([torch.stack([pq, p - pq]), torch.stack([q - pq, eye - p - q + pq])])
            grid = b if grid is None else block_conv(grid, b)
        if grid is None:
            grid = eye[None, None]
        if not flipped:
            taps = torch.einsum("ca,ijab->ijcb", h, grid)  # cin x cout per tap
            return taps.permute(3, 2, 1, 0)  # weight[o, c, u, v] = T[v][u][c, o]
        taps = torch.einsum("co,ijcd->ijod", h, grid)  # H^T @ p[i, j]: cout x cin per tap
        return taps.permute(2, 3, 1, 0)  # weight[o, c, u, v] = T[v][u][o, c]

    def forward(self, x):
        return F.conv2d(cyclic_pad(x, self.k), self.kernel(), self.bias)


class Unshuffle(nn.Module):
    def forward(self, x):
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return x.reshape(b, c * 4, h // 2, w // 2)


class MaxMin(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return torch.cat([torch.maximum(a, b), torch.minimum(a, b)], dim=1)


class BjorckLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        w = torch.empty(n_out, n_in)
        nn.init.orthogonal_(w, gain=1 / math.sqrt(n_in))
        self.weight = nn.Parameter(w)
        bound = 1 / math.sqrt(n_in)
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))

    def forward(self, x):
        return F.linear(x, bjorck(self.weight), self.bias)


def strided(cin, cout):
    """A 4x4 stride-2 conv as the reference runs it: unshuffle, then a 2x2 BCOP on 4·cin channels."""
    return nn.Sequential(Unshuffle(), BCOP(4 * cin, cout, 2))


def small(c, size):
    s = size // 4
    return nn.Sequential(
        strided(c, 16), MaxMin(), strided(16, 32), MaxMin(), nn.Flatten(),
        BjorckLinear(32 * s * s, 100), MaxMin(), BjorckLinear(100, 10),
    )


def large(c, size):
    s = size // 4
    return nn.Sequential(
        BCOP(c, 32, 3), MaxMin(), strided(32, 32), MaxMin(), BCOP(32, 64, 3), MaxMin(), strided(64, 64), MaxMin(),
        nn.Flatten(), BjorckLinear(64 * s * s, 512), MaxMin(), BjorckLinear(512, 512), MaxMin(), BjorckLinear(512, 10),
    )


MODELS = {
    "mnist-small": (small, 1, 28, 1.5),
    "mnist-large": (large, 1, 28, 1.5),
    "cifar-large": (large, 3, 32, 0.5),
}


def time_model(name, repeats, warmup, batch):
    build, c, size, eps = MODELS[name]
    torch.manual_seed(0)
    model = build(c, size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, c, size, size)
    y = torch.randint(0, 10, (batch,))
    margin = math.sqrt(2) * eps

    def step():
        opt.zero_grad()
        loss = F.multi_margin_loss(model(x), y, margin=margin)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
    return {"medianMs": round(statistics.median(samples), 2), "minMs": round(min(samples), 2), "samples": [round(s, 1) for s in samples]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch, "models": {}}
    for name in args.models.split(","):
        out["models"][name] = time_model(name, args.repeats, args.warmup, args.batch)
        print(f"{name}: {out['models'][name]['medianMs']} ms", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
