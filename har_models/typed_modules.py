"""Typed reads of an ``nn.ModuleList``: torch types its items as plain ``nn.Module``, so a
model that holds modules of one kind reads them through :func:`modules_of`, which checks
the kind once and hands the type checker a ``list`` of that kind."""

from __future__ import annotations

from typing import TypeVar

from torch import nn

M = TypeVar("M", bound=nn.Module)


def modules_of(kind: type[M], modules: nn.ModuleList) -> list[M]:
    """The items of ``modules`` as ``kind``, in order; a ``TypeError`` names any other."""
    out: list[M] = []
    for i, module in enumerate(modules):
        if not isinstance(module, kind):
            raise TypeError(f"item {i} is a {type(module).__name__}, expected {kind.__name__}")
        out.append(module)
    return out
