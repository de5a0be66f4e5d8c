"""Training-window augmentation that mimics another phone placement: small 3-D rotations.

A phone in a pocket sits at a slightly different angle on every person, which is what
confuses SITTING, STANDING and LAYING across subjects (their gravity direction differs).
Rotating each training window's 3-axis sensors by one random small rotation (the same for
every sensor of the window, as they share one device) teaches a classifier that tilt.
"""

from __future__ import annotations

import numpy as np

AXES = 3  # channels come as consecutive x/y/z triples (data_contracts.dataset.CHANNELS)


def random_rotations(rng: np.random.Generator, n: int, max_degrees: float) -> np.ndarray:
    """``n`` rotation matrices (n, 3, 3): uniformly random axes, angles U(-max, max) degrees
    (Rodrigues' formula)."""
    axis = rng.normal(size=(n, AXES))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    theta = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    k = np.zeros((n, AXES, AXES))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k = k - k.transpose(0, 2, 1)
    sin, cos = np.sin(theta)[:, None, None], np.cos(theta)[:, None, None]
    return np.eye(AXES)[None] + sin * k + (1 - cos) * (k @ k)


def rotate_windows(x: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Rotate every x/y/z triple of window i (N, T, C) by ``rotations[i]``."""
    if x.shape[-1] % AXES:
        raise ValueError(f"rotation needs x/y/z channel triples, got {x.shape[-1]} channels")
    out = np.empty_like(x, dtype=np.float32)
    r = rotations.astype(np.float32)
    for g in range(0, x.shape[-1], AXES):
        out[:, :, g : g + AXES] = np.einsum("nij,ntj->nti", r, x[:, :, g : g + AXES])
    return out


def with_rotated_copies(
    x: np.ndarray, y: np.ndarray, copies: int, max_degrees: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The windows followed by ``copies`` randomly rotated copies of them, and their labels."""
    parts = [np.asarray(x, dtype=np.float32)]
    for _ in range(copies):
        parts.append(rotate_windows(parts[0], random_rotations(rng, len(x), max_degrees)))
    return np.concatenate(parts), np.tile(np.asarray(y), copies + 1)
