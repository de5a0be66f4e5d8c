"""``rocket_ensemble``: MiniRocket members trained on tilted copies, logits averaged.

Our model, built from what the held-out-subject study showed (``BENCHMARKS.md``, "A model
above every anchor"; every choice there was made on whole training subjects, never test):

- MiniRocket's random convolutions (:mod:`har_models.minirocket`) are the strongest
  features on these raw signals; what they get wrong are people who wear the phone at
  another angle (sitting taken for standing, laying for standing).
- So each ridge head also learns from ``rotated_copies`` copies of every training window,
  rotated by a random 3-D rotation of up to ``max_degrees`` (:mod:`har_models.augment`);
  the transform's biases still come from the original windows.
- ``members`` independent MiniRocket transforms (their own channel subsets and biases) are
  averaged: a cheap ensemble that removes most of the seed-to-seed spread.
- ``alpha`` is fixed: leave-one-out over overlapping windows of the same people chose weaker
  regularisation than whole held-out subjects wanted.

Fitted in one pass, like MiniRocket; every fitted number lives in buffers, so the checkpoint
is plain tensors and counts all members.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.augment import with_rotated_copies
from har_models.minirocket import MiniRocketNet, can_fuse, fused_ppv
from har_models.typed_modules import modules_of


class RocketEnsembleNet(nn.Module):
    """Raw windows (B, T, C) -> mean of the members' ridge decision values (B, classes)."""

    closed_form = True

    def __init__(
        self,
        members: int = 3,
        rotated_copies: int = 2,
        max_degrees: float = 30.0,
        alpha: float = 215.0,
        n_features: int = 10_000,
        *,
        n_channels: int = N_CHANNELS,
        n_steps: int = N_STEPS,
        n_classes: int = N_CLASSES,
    ) -> None:
        super().__init__()
        if members < 1 or rotated_copies < 0:
            raise ValueError(
                f"need members >= 1 and rotated_copies >= 0, got {members}, {rotated_copies}"
            )
        self.rotated_copies, self.max_degrees, self.alpha = rotated_copies, max_degrees, alpha
        self.members = nn.ModuleList(
            MiniRocketNet(n_features, n_channels=n_channels, n_steps=n_steps, n_classes=n_classes)
            for _ in range(members)
        )

    @torch.no_grad()
    def fit(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> dict[str, Any]:
        """Fit every member on the windows and their rotated copies; ``seed`` drives the
        rotations and each member's transform. Returns the training accuracy (originals)."""
        x_np, y_np = x.cpu().numpy(), y.cpu().numpy()
        x_aug, y_aug = with_rotated_copies(
            x_np, y_np, self.rotated_copies, self.max_degrees, np.random.default_rng([seed, 1])
        )
        augmented = torch.from_numpy(x_aug).to(x.device)
        members = self.rocket_members()
        votes = torch.zeros(len(x), members[0].coef.shape[0], dtype=torch.float64)
        for m, member in enumerate(members):
            member.fit_transform(x, np.random.default_rng([seed, 0, m]))
            z = member.transform(augmented).cpu().numpy()  # float32: the copies triple the rows
            member.fit_head(z, y_aug, alpha=self.alpha)
            # training accuracy on the host, where z is (the fitted head may live on a GPU)
            mean, scale, coef, intercept = (
                t.detach().cpu().double()
                for t in (member.mean, member.scale, member.coef, member.intercept)
            )
            standardized = (torch.from_numpy(z[: len(x)]).double() - mean) / scale
            votes += standardized @ coef.T + intercept
        accuracy = float((votes.argmax(1).numpy() == y_np).mean())
        return {"alpha": self.alpha, "train_accuracy": accuracy}

    def rocket_members(self) -> list[MiniRocketNet]:
        """The members, typed."""
        return modules_of(MiniRocketNet, self.members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = self.rocket_members()
        transforms = [member.rocket_transforms()[0] for member in members]
        if any(member.diff for member in members) or not can_fuse(transforms):
            return torch.stack([member(x) for member in members]).mean(0)
        # one pass over the window for every member's transform (latency at batch 1)
        series = x.transpose(1, 2).contiguous()
        features = fused_ppv(series, transforms, self.__dict__.setdefault("_fused", {}))
        logits = [
            ((z - m.mean) / m.scale) @ m.coef.T + m.intercept
            for m, z in zip(members, features.chunk(len(members), -1), strict=True)
        ]
        return torch.stack(logits).mean(0)

    def fitted_numbers(self) -> int:
        return sum(member.fitted_numbers() for member in self.rocket_members())
