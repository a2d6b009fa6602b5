"""Small crop classifiers (input: N x 3 x S x S, normalised RGB; output N x 1 logit).

All share one light backbone (~0.1 GFLOP per 128 px crop) and differ in the
fixed front end (input representation):
  plain : the normalised RGB crop
  npr   : neighbouring-pixel residual x - up2(down2(x)) (NPR, Tan et al. 2024)
  srm   : fixed high-pass bank (SRM 1st/2nd order + KV 5x5) per channel, clipped
  npr_y / srm_y : the same on luma only (colour-blind: no colour shortcut)
  fft   : log-magnitude 2-D DFT of the luma crop (DFT as fixed matmuls, ONNX-safe)
  fftavg: image level: the power spectra of the Laplacian residual of every crop
          are averaged over the whole batch (all crops of one image) before the
          log and the CNN, so periodic decoder peaks add up across crops while
          content averages out; the one image logit is repeated for each crop
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    def __init__(self, cin, width=(8, 16, 32, 64, 96)):
        super().__init__()
        w = width
        self.f = nn.Sequential(
            cbr(cin, w[0], 1),
            cbr(w[0], w[1], 2),
            cbr(w[1], w[2], 2),
            cbr(w[2], w[3], 2),
            cbr(w[3], w[4], 2),
            cbr(w[4], w[4], 1),
        )
        self.head = nn.Linear(w[4], 1)

    def forward(self, x):
        x = self.f(x)
        x = x.mean(dim=(2, 3))
        return self.head(x)


class NPR(nn.Module):
    def forward(self, x):
        n, c, h, w = x.shape
        # nearest down/up by 2 == repeat the top-left pixel of each 2x2 block
        d = F.interpolate(x, scale_factor=0.5, mode="nearest")
        u = F.interpolate(d, scale_factor=2.0, mode="nearest")
        return (x - u) * 4.0


def srm_bank():
    f1 = torch.tensor([[0, 0, 0], [0, -1, 1], [0, 0, 0]], dtype=torch.float32)
    f2 = torch.tensor([[0, 0, 0], [1, -2, 1], [0, 0, 0]], dtype=torch.float32) / 2
    kv = torch.tensor([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2],
                       [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]], dtype=torch.float32) / 12
    k = torch.zeros(3, 5, 5)
    k[0, 1:4, 1:4] = f1
    k[1, 1:4, 1:4] = f2 + f2.t()
    k[2] = kv
    return k


class SRM(nn.Module):
    def __init__(self):
        super().__init__()
        k = srm_bank()  # 3 x 5 x 5
        w = torch.zeros(9, 3, 5, 5)
        for c in range(3):
            for j in range(3):
                w[c * 3 + j, c] = k[j]
        self.register_buffer("w", w)

    def forward(self, x):
        y = F.conv2d(x, self.w, padding=2)
        return torch.clamp(y * 2.0, -3.0, 3.0)


class DFTPower(nn.Module):
    """Power spectrum |DFT2(y)|^2 of a real N x 1 x S x S input, fftshifted
    (zero frequency at S/2), as fixed cos/sin matmuls (plain ONNX MatMul).

    The input is real, so P(u, v) = P(-u, -v): only the rows u = -S/2 .. 0
    (shifted rows 0 .. S/2) are computed, and the others are those rows
    mirrored, which halves the matmul work. Buffers `c` and `s` keep the
    full shifted matrices (their names are part of trained checkpoints)."""

    def __init__(self, size):
        super().__init__()
        n = torch.arange(size, dtype=torch.float64)
        ang = 2 * math.pi * torch.outer(n, n) / size
        shift = torch.roll(torch.eye(size, dtype=torch.float64), size // 2, 0)
        self.register_buffer("c", (shift @ torch.cos(ang)).float())
        self.register_buffer("s", (shift @ torch.sin(ang)).float())
        h = size // 2 + 1
        self.h = h
        # shifted index i <-> frequency i - S/2; the mirror of i is (S - i) mod S
        self.register_buffer("rows", torch.arange(size - h, 0, -1), persistent=False)  # S/2-1 .. 1
        self.register_buffer("cols", (size - torch.arange(size)) % size, persistent=False)

    def forward(self, y):
        # F = C Y C^T - S Y S^T  - i (S Y C^T + C Y S^T), first S/2 + 1 rows only
        ch, sh = self.c[: self.h], self.s[: self.h]
        cy = torch.matmul(ch, y)
        sy = torch.matmul(sh, y)
        re = torch.matmul(cy, self.c.t()) - torch.matmul(sy, self.s.t())
        im = torch.matmul(sy, self.c.t()) + torch.matmul(cy, self.s.t())
        top = re * re + im * im
        bottom = torch.index_select(torch.index_select(top, 2, self.rows), 3, self.cols)
        return torch.cat([top, bottom], dim=2)


class FFTLogMag(DFTPower):
    """|DFT2(luma)| in log scale, fftshifted, via fixed cos/sin matrices."""

    def forward(self, x):
        y = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
        y = y - y.mean(dim=(2, 3), keepdim=True)
        mag = torch.log(super().forward(y) + 1e-3) * 0.5
        return (mag - 2.0) / 2.0


class Luma(nn.Module):
    """ITU-R 601 luma of the (normalised) RGB input: 1 channel. Gray images
    (R = G = B) pass through unchanged, so colour cannot be a shortcut."""

    def __init__(self):
        super().__init__()
        self.register_buffer("w", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1))

    def forward(self, x):
        return (x * self.w).sum(dim=1, keepdim=True)


class SRM1(SRM):
    """SRM bank on a single (luma) channel: 3 outputs."""

    def __init__(self):
        super().__init__()
        self.w = srm_bank().unsqueeze(1)


class ResidualPower(DFTPower):
    """Power spectrum |DFT2(r)|^2 (fftshifted) of the Laplacian residual r of
    the luma crop: N x 1 x S x S. The residual whitens the 1/f content so the
    crop border leaks little into high frequencies."""

    def __init__(self, size):
        super().__init__(size)
        self.luma = Luma()
        lap = torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]).view(1, 1, 3, 3)
        self.register_buffer("lap", lap)

    def forward(self, x):
        y = F.pad(self.luma(x), (1, 1, 1, 1), mode="reflect")
        return super().forward(F.conv2d(y, self.lap))


class FFTAvg(nn.Module):
    """Image-level spectrum classifier. forward(x) treats the whole batch as
    the crops of ONE image (the runtime's contract: one batch per image) and
    returns its logit repeated N times, so mean_logit aggregation is exact.
    forward_groups(x, k) scores B images of k crops each (training)."""

    def __init__(self, size=128, logavg=False):
        super().__init__()
        self.arch = "fftavg_log" if logavg else "fftavg"
        self.logavg = logavg
        self.power = ResidualPower(size)
        self.body = Backbone(1)

    @staticmethod
    def rel_log(p):
        # log of the power relative to its mean over frequencies
        return (torch.log(p / (p.mean(dim=(2, 3), keepdim=True) + 1e-8) + 1e-4) + 2.0) / 3.0

    def per_crop(self, p):
        # what is averaged over crops: the power (fftavg: textured crops weigh
        # more) or its relative log (fftavg_log: every crop weighs the same)
        return self.rel_log(p) if self.logavg else p

    def head(self, m):
        return self.body(m if self.logavg else self.rel_log(m))

    def forward(self, x):
        return self.from_power(self.power(x))

    def from_power(self, p):
        """The logit(s) from the crops' residual power (N x 1 x S x S)."""
        m = self.per_crop(p).mean(dim=0, keepdim=True)
        return self.head(m).expand(p.shape[0], 1)

    def forward_groups(self, x, k):
        m = self.per_crop(self.power(x))
        return self.head(m.view(-1, k, *m.shape[1:]).mean(dim=1))


def spectral_features(size=128):
    """Fixed linear read-outs of an image's mean relative log-spectrum L
    (fftshifted, S x S): F x S*S. Each row is one feature <row, L>:
      - contrast of every point of the period-8 lattice (which holds the
        period-2 and -4 points) against the mean of its 5x5 neighbourhood,
        the peaks a decoder's 2x/4x/8x upsampling leaves;
      - the mean contrast of the period-16 lattice points;
      - 16 radial band means (the spectral slope: how smooth the image is);
      - 8 x 8 block means (coarse shape of the spectrum)."""
    S, c = size, size // 2
    rows = []

    def contrast(i, j):
        f = torch.zeros(S, S)
        for di in range(-2, 3):
            for dj in range(-2, 3):
                f[(i + di) % S, (j + dj) % S] -= 1.0 / 24
        f[i, j] = 1.0
        return f

    step = S // 8
    for a in range(8):
        for b in range(8):
            if a == 0 and b == 0:
                continue
            rows.append(contrast((c + a * step) % S, (c + b * step) % S))
    s16 = S // 16
    acc = torch.zeros(S, S)
    for a in range(16):
        for b in range(16):
            if (a, b) != (0, 0) and (a % 2 or b % 2):
                acc += contrast((c + a * s16) % S, (c + b * s16) % S)
    rows.append(acc / 192)
    yy, xx = torch.meshgrid(torch.arange(S) - c, torch.arange(S) - c, indexing="ij")
    r = torch.sqrt((xx.float() / S) ** 2 + (yy.float() / S) ** 2)
    edges = torch.linspace(0, 0.71, 17)
    for k in range(16):
        m = ((r >= edges[k]) & (r < edges[k + 1])).float()
        rows.append(m / m.sum().clamp(min=1))
    blk = S // 8
    for a in range(8):
        for b in range(8):
            m = torch.zeros(S, S)
            m[a * blk:(a + 1) * blk, b * blk:(b + 1) * blk] = 1.0 / (blk * blk)
            rows.append(m)
    return torch.stack([f.reshape(-1) for f in rows])


class SpecLin(nn.Module):
    """Image-level linear probe: logistic regression on `spectral_features` of
    the image's mean relative log-spectrum (the same spectrum as fftavg_log).
    `w` (S x S) folds the features and their standardisation into one map, so
    the logit is sum(w * L) + b, repeated for every crop."""

    def __init__(self, size=128):
        super().__init__()
        self.arch = "speclin"
        self.power = ResidualPower(size)
        self.register_buffer("w", torch.zeros(1, 1, size, size))
        self.register_buffer("b", torch.zeros(1))

    def spectrum(self, x):
        """L: the mean relative log-spectrum of the crops (1 x 1 x S x S)."""
        return self.mean_spectrum(self.power(x))

    @staticmethod
    def mean_spectrum(p):
        return FFTAvg.rel_log(p).mean(dim=0, keepdim=True)

    def forward(self, x):
        return self.from_power(self.power(x))

    def from_power(self, p):
        """The logit(s) from the crops' residual power (N x 1 x S x S)."""
        z = (self.mean_spectrum(p) * self.w).sum(dim=(1, 2, 3)) + self.b
        return z.view(1, 1).expand(p.shape[0], 1)


class Net(nn.Module):
    def __init__(self, arch, size=128):
        super().__init__()
        self.arch = arch
        if arch == "plain":
            self.front, cin = nn.Identity(), 3
        elif arch == "npr":
            self.front, cin = NPR(), 3
        elif arch == "srm":
            self.front, cin = SRM(), 9
        elif arch == "npr_y":
            self.front, cin = nn.Sequential(Luma(), NPR()), 1
        elif arch == "srm_y":
            self.front, cin = nn.Sequential(Luma(), SRM1()), 3
        elif arch == "fft":
            self.front, cin = FFTLogMag(size), 1
        else:
            raise ValueError(arch)
        self.body = Backbone(cin)

    def forward(self, x):
        return self.body(self.front(x))


class Ensemble(nn.Module):
    """Mean of the members' logits (N x 1). With mean_logit aggregation the
    image score equals the mean of the members' image scores."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        # Image-level members read the same residual power spectrum (a fixed
        # front end): compute it once and share it.
        shared = None
        outs = []
        for m in self.members:
            if isinstance(m, (FFTAvg, SpecLin)):
                if shared is None:
                    shared = m.power(x)
                outs.append(m.from_power(shared))
            else:
                outs.append(m(x))
        return torch.stack(outs, 0).mean(0)


def make(arch, size=128):
    if arch in ("fftavg", "fftavg_log"):
        return FFTAvg(size, logavg=arch == "fftavg_log")
    if arch == "speclin":
        return SpecLin(size)
    return Net(arch, size)


def build(ck, size=128):
    """Net (or Ensemble) from a train.py / ensemble.py checkpoint dict."""
    if ck["arch"] == "ensemble":
        ms = []
        for m in ck["members"]:
            n = make(m["arch"], size)
            n.load_state_dict(m["state_dict"])
            ms.append(n)
        return Ensemble(ms)
    n = make(ck["arch"], size)
    n.load_state_dict(ck["state_dict"])
    return n


DESCRIPTION = {
    "fftavg": "image level: luma (ITU-R 601) of each 128 px crop -> 3x3 Laplacian residual -> power spectrum "
              "|DFT2|^2 (fftshifted; DFT as fixed cos/sin matmuls) -> mean over all crops of the image (the batch) "
              "-> divided by its mean, log -> 6 conv-BN-ReLU layers (8-16-32-64-96-96, four stride-2) -> global mean "
              "-> linear; the image logit is repeated for every crop",
    "speclin": "image level: the fftavg_log spectrum (Laplacian residual power of each 128 px crop, divided by its "
               "mean, log, mean over crops) -> logistic regression on 144 fixed read-outs: contrast of the period-8 "
               "lattice points (decoder upsampling peaks), period-16 mean contrast, 16 radial bands, 8x8 block means",
    "fftavg_log": "as fftavg, but each crop's spectrum is divided by its mean and logged before the mean over crops",
    "fft": "luma (ITU-R 601) of the 128 px crop, mean removed -> log-magnitude 2-D DFT (fftshifted; DFT as fixed "
           "cos/sin matmuls, ONNX-safe) -> 6 conv-BN-ReLU layers (8-16-32-64-96-96, four stride-2) -> global mean -> linear",
    "srm_y": "luma -> fixed SRM high-pass bank (1st/2nd order, KV 5x5) clipped to +-3 -> 6 conv-BN-ReLU layers -> global mean -> linear",
    "npr_y": "luma -> neighbouring-pixel residual x - up2(down2(x)) -> 6 conv-BN-ReLU layers -> global mean -> linear",
}


def n_params(m):
    return sum(p.numel() for p in m.parameters())
