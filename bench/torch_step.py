"""PyTorch reference for bench/train_step_bench.ts: the tutorial's model, one CPU thread.

LSTM(256, sequences, recurrent dropout) -> LSTM(256) -> BatchNorm -> Dropout -> Dense(128)
-> ReLU -> BatchNorm -> Dropout -> Dense(vocab) -> softmax, Adam, categorical cross-entropy,
batch 32, window 100, input dim 1. nn.LSTM has no recurrent dropout, so with dropout the first
layer runs as an explicit loop (one mask per batch on h, as Keras/tfjs do); without it both
layers are nn.LSTM (PyTorch's fused CPU kernel), the like-for-like figure.

Prints one JSON object: ms per training step for each variant and the torch version.
"""
import argparse
import json
import time

import torch
from torch import nn


class DropoutLstm(nn.Module):
    """nn.LSTM's weights and maths with Keras-style recurrent dropout on h."""

    def __init__(self, inp, units, rate):
        super().__init__()
        self.cell = nn.LSTMCell(inp, units)
        self.units = units
        self.rate = rate

    def forward(self, x):
        b, t, _ = x.shape
        h = x.new_zeros(b, self.units)
        c = x.new_zeros(b, self.units)
        # Input projections of all steps in one product, as the fused tfjs layer does.
        xp = torch.nn.functional.linear(x, self.cell.weight_ih, self.cell.bias_ih + self.cell.bias_hh)
        mask = None
        if self.training and self.rate > 0:
            mask = torch.bernoulli(x.new_full((b, self.units), 1 - self.rate)) / (1 - self.rate)
        # unbind, not xp[:, s]: a slice's backward would materialise a full-size gradient per step.
        steps = xp.unbind(1)
        w_hh_t = self.cell.weight_hh.t()
        outs = []
        for s in range(t):
            hm = h * mask if mask is not None else h
            z = steps[s] + hm @ w_hh_t
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, 1)


class Model(nn.Module):
    def __init__(self, vocab, units, dense, rec_dropout, dropout):
        super().__init__()
        if rec_dropout > 0:
            self.lstm1 = DropoutLstm(1, units, rec_dropout)
        else:
            self.lstm1 = nn.LSTM(1, units, batch_first=True)
        self.lstm2 = nn.LSTM(units, units, batch_first=True)
        self.head = nn.Sequential(
            nn.BatchNorm1d(units), nn.Dropout(dropout), nn.Linear(units, dense), nn.ReLU(),
            nn.BatchNorm1d(dense), nn.Dropout(dropout), nn.Linear(dense, vocab),
        )

    def forward(self, x):
        y = self.lstm1(x)
        if isinstance(y, tuple):
            y = y[0]
        y, _ = self.lstm2(y)
        return self.head(y[:, -1])  # logits; cross_entropy applies the softmax


def time_steps(rec_dropout, args):
    torch.manual_seed(1)
    model = Model(args.vocab, args.units, args.dense, rec_dropout, 0.3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(args.batch, args.window, 1)
    y = torch.randint(0, args.vocab, (args.batch,))
    model.train()

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    return (time.perf_counter() - t0) * 1000 / args.steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--window", type=int, default=100)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--dense", type=int, default=128)
    p.add_argument("--vocab", type=int, default=200)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "msPerStep": {
            "recurrentDropout0.3": time_steps(0.3, args),
            "recurrentDropout0": time_steps(0.0, args),
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
