"""``--dispatch deployment`` refuses to start when its children could never run, and says
loudly why a child that waits for a worker slot is stuck."""

from __future__ import annotations

import asyncio

import pytest
from prefect import get_client
from prefect.client.schemas.actions import WorkPoolUpdate

from deployments.pools import GPU_POOL, ensure_pools
from flows.train_one import train_one
from tasks.dispatch import DispatchError, check_dispatch_capacity, waiting_warning


def test_dispatch_refuses_a_pool_with_no_worker_online(prefect_harness: None) -> None:
    asyncio.run(ensure_pools())
    train_one.to_deployment(name="gpu", work_pool_name=GPU_POOL).apply()
    with pytest.raises(DispatchError, match=f"no worker is online on work pool '{GPU_POOL}'"):
        check_dispatch_capacity.fn()

    pause(True)
    try:
        with pytest.raises(DispatchError, match="is paused"):
            check_dispatch_capacity.fn()
    finally:
        pause(False)


def pause(paused: bool) -> None:
    with get_client(sync_client=True) as client:
        client.update_work_pool(GPU_POOL, WorkPoolUpdate(is_paused=paused))


def test_a_waiting_child_is_named_with_the_way_out() -> None:
    text = waiting_warning("s-lstm-r00", "har-gpu", 61)
    assert text.startswith("NO FREE WORKER SLOT: har-train-one/gpu run s-lstm-r00 has waited 61 s")
    assert "WORKER_LIMIT=2" in text and "another worker" in text
