"""``minirocket``: MiniRocket random-convolution features and a ridge classifier, in PyTorch.

MiniRocket (Dempster, Schmidt and Webb, KDD 2021) as the reference and aeon 1.6 implement
it for multivariate series: the 84 fixed kernels of length 9 (weights -1, and +2 at three
positions), dilations spread exponentially up to the window, a random subset of channels per
(dilation, kernel), biases drawn from quantiles of the convolution of one random training
window, PPV pooling (share of steps above the bias), alternating "same" and "valid" padding;
then per-feature standardization and ``RidgeClassifierCV(alphas=logspace(-3, 3, 10))``
(the paper's classifier; its alpha is chosen inside the fit by efficient leave-one-out).

Why PyTorch rather than aeon: the model is then a plain :class:`~torch.nn.Module` whose whole
fitted state (channel masks, biases, scaler, ridge weights) lives in buffers, so it saves as
a ``weights_only`` checkpoint like every other architecture (no pickled estimator), predicts
from raw windows, runs on GPU workers and exports to ONNX/TorchScript; and the project keeps
numpy >= 2.4, which aeon 1.6 refuses. Its accuracy is compared with aeon's in BENCHMARKS.md.

Options beyond the paper, for the new models built on it: MultiRocket's pooling operators
(``mpv``, ``mipv``, ``lspv``) and a second transform over the first difference (``diff``).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Final

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.typed_modules import modules_of

KERNEL_LENGTH: Final = 9
KERNEL_POSITIONS: Final = np.array(list(combinations(range(KERNEL_LENGTH), 3)), dtype=np.int64)
N_KERNELS: Final = len(KERNEL_POSITIONS)  # 84
POOLINGS: Final = ("ppv", "mpv", "mipv", "lspv")
RIDGE_ALPHAS: Final = np.logspace(-3, 3, 10)
GOLDEN_RATIO: Final = (np.sqrt(5) + 1) / 2
# Up to this batch size PPV compares every value with every bias; above it, it ranks the
# values among the sorted biases (measured: 2.7 vs 4.2 ms per window at batch 1, 6.8 vs 2.3
# at batch 256, one thread; BENCHMARKS.md).
SMALL_BATCH: Final = 16


def kernel_weights() -> np.ndarray:
    """The 84 kernels (84, 9): -1 everywhere, +2 at the 3 chosen positions."""
    w = -np.ones((N_KERNELS, KERNEL_LENGTH), dtype=np.float32)
    for k, positions in enumerate(KERNEL_POSITIONS):
        w[k, positions] = 2.0
    return w


def dilations_for(
    n_steps: int, n_features: int, max_dilations: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """(dilations, features per kernel at each dilation), the reference implementation's rule."""
    per_kernel = n_features // N_KERNELS
    true_max = min(per_kernel, max_dilations)
    multiplier = per_kernel / true_max
    max_exponent = np.log2((n_steps - 1) / (KERNEL_LENGTH - 1))
    dilations, counts = np.unique(
        np.logspace(0, max_exponent, true_max, base=2).astype(np.int32), return_counts=True
    )
    per_dilation = (counts * multiplier).astype(np.int64)
    remainder, i = per_kernel - per_dilation.sum(), 0
    while remainder > 0:
        per_dilation[i] += 1
        remainder -= 1
        i = (i + 1) % len(per_dilation)
    return dilations.astype(np.int64), per_dilation


def _row_quantiles(sorted_rows: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """numpy's linear quantile of each sorted row (R, L) at its own levels q (R, Q)."""
    n = sorted_rows.shape[-1]
    pos = q.double() * (n - 1)
    lo = pos.floor().long().clamp(0, n - 1)
    hi = (lo + 1).clamp(max=n - 1)
    a, b = sorted_rows.double().gather(1, lo), sorted_rows.double().gather(1, hi)
    return (a + (b - a) * (pos - lo.double())).float()


def _ppv_by_rank(conv: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Count of values above each bias, (B, K, L) x (K, F) -> (B, K, F), without comparing
    every value with every bias: rank each value among the row's sorted biases, histogram the
    ranks, and read the counts off a reverse cumulative sum."""
    b, k, f = conv.shape[0], bias.shape[0], bias.shape[1]
    ordered, order = bias.sort(-1)
    rank = torch.searchsorted(ordered.expand(b, k, f).contiguous(), conv.contiguous())  # biases < v
    counts = conv.new_zeros(b, k, f + 1).scatter_add_(2, rank, torch.ones_like(conv))
    above = counts.flip(-1).cumsum(-1).flip(-1)[..., 1:]  # values with rank > i: above bias i
    return above.gather(2, order.argsort(-1).expand(b, k, f))


def _longest_run(positive: torch.Tensor) -> torch.Tensor:
    """Length of the longest run of True along the last axis."""
    n = positive.shape[-1]
    t = torch.arange(n, dtype=torch.int64, device=positive.device)
    last_false = torch.where(positive, torch.full_like(t, -1).expand_as(positive), t)
    return (t - torch.cummax(last_false, -1).values).amax(-1).float()


class RocketTransform(nn.Module):
    """Multivariate MiniRocket features: (B, C, T) -> (B, n_out); fitted state in buffers."""

    kernels: torch.Tensor
    channel_mask: torch.Tensor
    biases: torch.Tensor

    def __init__(
        self,
        n_channels: int,
        n_steps: int,
        n_features: int = 10_000,
        max_dilations: int = 32,
        pooling: tuple[str, ...] = ("ppv",),
    ) -> None:
        super().__init__()
        unknown = set(pooling) - set(POOLINGS)
        if unknown or not pooling:
            raise ValueError(f"pooling must be a non-empty subset of {POOLINGS}, got {pooling}")
        self.n_channels, self.n_steps, self.pooling = n_channels, n_steps, tuple(pooling)
        dilations, per_dilation = dilations_for(n_steps, n_features, max_dilations)
        self.dilation_list = dilations.tolist()
        self.per_dilation = per_dilation.tolist()
        self.offsets = np.concatenate([[0], np.cumsum(N_KERNELS * per_dilation)]).tolist()
        self.n_biases = int(self.offsets[-1])
        self.n_out = self.n_biases * len(self.pooling)
        kernels = torch.arange(N_KERNELS)
        # (dilation j, kernel k): "same" padding when j + k is even, "valid" otherwise
        self.same = [torch.nonzero((kernels + j) % 2 == 0).flatten() for j in range(len(dilations))]
        self.valid = [
            torch.nonzero((kernels + j) % 2 == 1).flatten() for j in range(len(dilations))
        ]
        self.register_buffer("kernels", torch.from_numpy(kernel_weights()))
        self.register_buffer("channel_mask", torch.zeros(len(dilations), N_KERNELS, n_channels))
        self.register_buffer("biases", torch.zeros(self.n_biases))

    def _weight(self, j: int) -> torch.Tensor:
        return self.kernels[:, None, :] * self.channel_mask[j][:, :, None]  # (84, C, 9)

    @torch.no_grad()
    def fit(self, x: torch.Tensor, rng: np.random.Generator) -> None:
        """Channel subsets and biases from training windows ``x`` (N, C, T)."""
        n, c, _ = x.shape
        if c != self.n_channels:
            raise ValueError(f"expected {self.n_channels} channels, got {c}")
        n_dil = len(self.dilation_list)
        sizes = (
            2 ** rng.uniform(0, np.log2(min(c, KERNEL_LENGTH) + 1), (n_dil, N_KERNELS))
        ).astype(np.int64)
        mask = np.zeros((n_dil, N_KERNELS, c), dtype=np.float32)
        for j in range(n_dil):
            for k in range(N_KERNELS):
                mask[j, k, rng.choice(c, sizes[j, k], replace=False)] = 1.0
        self.channel_mask.copy_(torch.from_numpy(mask))
        levels = torch.from_numpy(
            ((np.arange(1, self.n_biases + 1) * GOLDEN_RATIO) % 1).astype(np.float32)
        )
        for j, d in enumerate(self.dilation_list):
            pick = torch.from_numpy(rng.integers(0, n, N_KERNELS)).to(x.device)
            out = F.conv1d(x[pick], self._weight(j), padding=4 * d, dilation=d)  # (84, 84, T)
            own = out[torch.arange(N_KERNELS), torch.arange(N_KERNELS)]  # window k, kernel k
            lo, hi = self.offsets[j], self.offsets[j + 1]
            q = levels[lo:hi].view(N_KERNELS, self.per_dilation[j]).to(x.device)
            self.biases[lo:hi] = _row_quantiles(own.sort(-1).values, q).flatten()

    def _pool(self, conv: torch.Tensor, bias: torch.Tensor) -> list[torch.Tensor]:
        """conv (B, K, L), bias (K, F) -> one (B, K, F) tensor per pooling operator."""
        length = conv.shape[-1]
        if self.pooling == ("ppv",) and not (
            torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
        ):
            return [_ppv_by_rank(conv, bias) / length]
        z = conv[:, :, None, :] - bias[None, :, :, None]  # (B, K, F, L)
        positive = z > 0
        count = positive.float().sum(-1)
        out = []
        for p in self.pooling:
            if p == "ppv":
                out.append(count / length)
            elif p == "mpv":
                out.append((z * positive).sum(-1) / count.clamp(min=1))
            elif p == "mipv":
                t = torch.arange(length, dtype=z.dtype, device=z.device)
                mipv = (positive * t).sum(-1) / count.clamp(min=1)
                out.append(torch.where(count > 0, mipv, torch.full_like(mipv, -1.0)))
            else:  # lspv
                out.append(_longest_run(positive))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, steps = x.shape[0], x.shape[-1]
        features = []
        for j, d in enumerate(self.dilation_list):
            conv = F.conv1d(x, self._weight(j), padding=4 * d, dilation=d)  # (B, 84, T)
            lo, hi = self.offsets[j], self.offsets[j + 1]
            bias = self.biases[lo:hi].view(N_KERNELS, self.per_dilation[j])
            pooled = [x.new_empty(b, N_KERNELS, self.per_dilation[j]) for _ in self.pooling]
            pad = 4 * d
            for kernels, window in (
                (self.same[j], slice(None)),
                (self.valid[j], slice(pad, steps - pad)),
            ):
                kernels = kernels.to(x.device)
                for target, values in zip(
                    pooled, self._pool(conv[:, kernels, window], bias[kernels]), strict=True
                ):
                    target[:, kernels] = values
            features.append(torch.stack(pooled).reshape(len(self.pooling), b, -1))
        return torch.cat(features, -1).permute(1, 0, 2).reshape(b, -1)


class _FusedTables:
    """What :func:`fused_ppv` needs for a group of transforms, built once per fitted state."""

    def __init__(self, transforms: list[RocketTransform], device: torch.device) -> None:
        first = transforms[0]
        steps, members = first.n_steps, len(transforms)
        self.weights, self.outside, self.biases, self.denominators = [], [], [], []
        for j, d in enumerate(first.dilation_list):
            self.weights.append(torch.cat([t._weight(j) for t in transforms]).to(device))
            pad, n_bias = 4 * d, first.per_dilation[j]
            valid = ((torch.arange(N_KERNELS) + j) % 2 == 1).repeat(members)  # "valid" rows
            outside = torch.zeros(members * N_KERNELS, steps, dtype=torch.bool)
            outside[valid, :pad] = True
            outside[valid, steps - pad :] = True
            self.outside.append(outside.to(device))
            lo, hi = first.offsets[j], first.offsets[j + 1]
            bias = torch.cat([t.biases[lo:hi].view(N_KERNELS, n_bias) for t in transforms])
            self.biases.append(bias[None, :, :, None].to(device))  # (1, rows, F, 1)
            length = torch.where(valid, steps - 2 * pad, steps).float()
            self.denominators.append(length[None, :, None].to(device))
        # the CPU path's: steps-first masks (a few windows) and the biases as numpy (F, rows)
        on_cpu = device.type == "cpu"
        self.outside_t = [o.T.contiguous() for o in self.outside] if on_cpu else []
        self.biases_np = [b[0, :, :, 0].T.numpy().copy() for b in self.biases] if on_cpu else []


def _dilated_conv(x: torch.Tensor, weight: torch.Tensor, dilation: int) -> torch.Tensor:
    """``F.conv1d(x, weight, padding=4 * dilation, dilation=dilation)``; for a few windows as
    one matrix product over unfolded steps (PyTorch's dilated convolution has no fast path
    at batch 1: 87 vs about 20 us a call, measured)."""
    if x.shape[0] > SMALL_BATCH:
        return F.conv1d(x, weight, padding=4 * dilation, dilation=dilation)
    return _dilated_conv_steps_first(x, weight, dilation).transpose(1, 2)


def _dilated_conv_steps_first(x: torch.Tensor, weight: torch.Tensor, dilation: int) -> torch.Tensor:
    """The same convolution as (B, T, kernels): one matrix product over unfolded steps."""
    b, c, steps = x.shape
    padded = F.pad(x, (4 * dilation, 4 * dilation))
    taps = padded.unfold(2, 8 * dilation + 1, 1)[..., ::dilation]  # (B, C, T, 9)
    taps = taps.permute(0, 2, 1, 3).reshape(b, steps, c * KERNEL_LENGTH)
    return taps @ weight.reshape(weight.shape[0], -1).T


def _counts_above_numpy(conv_t: torch.Tensor, biases: np.ndarray) -> torch.Tensor:
    """(B, T, R) values (any strides) and (F, R) biases -> (B, R, F) counts of values above
    each bias. The same booleans as torch's broadcast comparison, laid out (B, F, T, R) so that the
    comparison and the sum over steps run along contiguous rows: about 2.8 times faster on
    CPU at these sizes (273 vs 754 us for 252 rows x 30 biases x 128 steps, 32 vs 88 us for
    3 biases; one thread, measured)."""
    dtype = np.uint8 if conv_t.shape[1] < 256 else np.int32
    values = conv_t.detach().numpy()
    out = np.empty((len(values), biases.shape[1], biases.shape[0]), dtype)
    for lo in range(0, len(values), SMALL_BATCH):  # bounded memory: (16, F, T, R) booleans
        steps_first = np.ascontiguousarray(values[lo : lo + SMALL_BATCH])
        chunk = steps_first[:, None] > biases[None, :, None, :]
        out[lo : lo + SMALL_BATCH] = chunk.sum(2, dtype=dtype).transpose(0, 2, 1)
    return torch.from_numpy(out)


def _state_key(transforms: list[RocketTransform]) -> tuple[object, ...] | None:
    try:
        return tuple(
            (
                t.biases.data_ptr(),
                t.biases._version,
                t.channel_mask.data_ptr(),
                t.channel_mask._version,
            )
            for t in transforms
        )
    except RuntimeError:  # inference tensors keep no version counter: do not cache
        return None


def fused_ppv(
    x: torch.Tensor, transforms: list[RocketTransform], cache: dict[str, Any]
) -> torch.Tensor:
    """PPV features of several fitted transforms (same steps and dilations) over ``x``
    (B, C, T): ``torch.cat([t(x) for t in transforms], -1)``, computed with one convolution
    per dilation for every transform and kernel, the "valid"-padding steps masked to -inf
    (never above a bias). Counts: on CPU numpy's comparison of every value with every bias
    (:func:`_counts_above_numpy`); on a GPU torch's comparison for a few windows and ranks
    among the sorted biases for many."""
    key = _state_key(transforms)
    tables = cache.get("tables") if key is not None and cache.get("key") == key else None
    if tables is None:
        tables = _FusedTables(transforms, x.device)
        cache.update(key=key, tables=tables)
    b, members = x.shape[0], len(transforms)
    per_member: list[list[torch.Tensor]] = [[] for _ in transforms]
    for j, d in enumerate(transforms[0].dilation_list):
        if x.device.type == "cpu":  # numpy's comparison: see the helper
            if b <= SMALL_BATCH:
                conv_t = _dilated_conv_steps_first(x, tables.weights[j], d)
                conv_t = conv_t.masked_fill_(tables.outside_t[j], -torch.inf)
            else:  # PyTorch's convolution, as the plain transform: the same features
                conv = F.conv1d(x, tables.weights[j], padding=4 * d, dilation=d)
                conv_t = conv.masked_fill_(tables.outside[j], -torch.inf).transpose(1, 2)
            above = _counts_above_numpy(conv_t, tables.biases_np[j])
        else:
            above = _counts_above_torch(x, tables, j, d)
        ppv = above / tables.denominators[j]
        for m, block in enumerate(ppv.view(b, members, -1).unbind(1)):
            per_member[m].append(block)
    return torch.cat([torch.cat(blocks, -1) for blocks in per_member], -1)


def _counts_above_torch(x: torch.Tensor, tables: _FusedTables, j: int, d: int) -> torch.Tensor:
    """The GPU's counts for dilation ``j``: (B, rows, F)."""
    conv = _dilated_conv(x, tables.weights[j], d).masked_fill(tables.outside[j], -torch.inf)
    if x.shape[0] <= SMALL_BATCH:  # compare every value with every bias: fewest operations
        above = (conv[:, :, None, :] > tables.biases[j]).view(torch.uint8)
        return above.sum(-1, dtype=torch.uint8 if conv.shape[-1] < 256 else torch.int32)
    return _ppv_by_rank(conv, tables.biases[j][0, :, :, 0])  # ranks: less work per value


def can_fuse(transforms: list[RocketTransform]) -> bool:
    """PPV-only transforms outside tracing/export (which use the plain comparison path)."""
    return all(t.pooling == ("ppv",) for t in transforms) and not (
        torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
    )


class MiniRocketNet(nn.Module):
    """Raw windows (B, T, C) -> MiniRocket features -> standardization -> ridge -> (B, classes)."""

    closed_form = True  # fitted by :meth:`fit`, not by gradient steps
    mean: torch.Tensor
    scale: torch.Tensor
    coef: torch.Tensor
    intercept: torch.Tensor
    transforms: nn.ModuleList

    def __init__(
        self,
        n_features: int = 10_000,
        max_dilations: int = 32,
        pooling: tuple[str, ...] | list[str] = ("ppv",),
        diff: bool = False,
        *,
        n_channels: int = N_CHANNELS,
        n_steps: int = N_STEPS,
        n_classes: int = N_CLASSES,
    ) -> None:
        super().__init__()
        self.diff = diff
        self.transforms = nn.ModuleList(
            [RocketTransform(n_channels, n_steps, n_features, max_dilations, tuple(pooling))]
        )
        if diff:
            self.transforms.append(
                RocketTransform(n_channels, n_steps - 1, n_features, max_dilations, tuple(pooling))
            )
        n_out = sum(t.n_out for t in self.rocket_transforms())
        self.register_buffer("mean", torch.zeros(n_out))
        self.register_buffer("scale", torch.ones(n_out))
        self.register_buffer("coef", torch.zeros(n_classes, n_out))
        self.register_buffer("intercept", torch.zeros(n_classes))

    def rocket_transforms(self) -> list[RocketTransform]:
        """The transforms (the raw series, then its differences when ``diff``), typed."""
        return modules_of(RocketTransform, self.transforms)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> unscaled features."""
        series = x.transpose(1, 2).contiguous()
        out = [self._apply_transform(0, series)]
        if self.diff:
            out.append(self._apply_transform(1, torch.diff(series, dim=-1)))
        return torch.cat(out, -1)

    def _apply_transform(self, i: int, series: torch.Tensor) -> torch.Tensor:
        transform = self.rocket_transforms()[i]
        if can_fuse([transform]):
            caches = self.__dict__.setdefault("_fused", {})
            return fused_ppv(series, [transform], caches.setdefault(i, {}))
        return transform(series)

    @torch.no_grad()
    def transform(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        return torch.cat(
            [self.features(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        )

    @torch.no_grad()
    def fit(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> dict[str, Any]:
        """Fit the transform(s) and the ridge head on training windows (B, T, C); everything
        random comes from ``seed``. Returns the chosen alpha and the training accuracy."""
        self.fit_transform(x, np.random.default_rng(seed))
        return self.fit_head(self.transform(x).cpu().double().numpy(), y.cpu().numpy())

    @torch.no_grad()
    def fit_transform(self, x: torch.Tensor, rng: np.random.Generator) -> None:
        """Channel subsets and biases from training windows (B, T, C)."""
        series = x.transpose(1, 2).contiguous()
        transforms = self.rocket_transforms()
        transforms[0].fit(series, rng)
        if self.diff:
            transforms[1].fit(torch.diff(series, dim=-1), rng)

    @torch.no_grad()
    def fit_head(self, z: np.ndarray, y: np.ndarray, alpha: float | None = None) -> dict[str, Any]:
        """Standardize features ``z`` and fit the ridge classifier: a fixed ``alpha``, or
        ``RidgeClassifierCV`` over :data:`RIDGE_ALPHAS` (efficient leave-one-out) when None."""
        from sklearn.linear_model import RidgeClassifier, RidgeClassifierCV

        mean, scale = z.mean(0), z.std(0)
        scale[scale == 0] = 1.0
        zs = (z - mean) / scale
        ridge = (
            RidgeClassifierCV(alphas=RIDGE_ALPHAS)
            if alpha is None
            else RidgeClassifier(alpha=alpha)
        ).fit(zs, y)
        self.mean.copy_(torch.from_numpy(mean))
        self.scale.copy_(torch.from_numpy(scale))
        self.coef.copy_(torch.from_numpy(np.atleast_2d(ridge.coef_)))
        self.intercept.copy_(torch.from_numpy(np.atleast_1d(ridge.intercept_)))
        chosen = float(ridge.alpha_) if alpha is None else alpha
        return {"alpha": chosen, "train_accuracy": float(ridge.score(zs, y))}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((self.features(x) - self.mean) / self.scale) @ self.coef.T + self.intercept

    def fitted_numbers(self) -> int:
        """Every number the fit chose (biases, scaler, ridge weights): its parameter count."""
        return sum(t.biases.numel() for t in self.rocket_transforms()) + sum(
            b.numel() for b in (self.mean, self.scale, self.coef, self.intercept)
        )
