"""Create the work pools the deployments run on (idempotent: existing pools are left as they are).

``har-gpu`` takes the training work (one worker per GPU, each started with ``--limit 1``);
``har-cpu`` is for CPU-only machines. Both are ``process`` pools: a worker runs each flow
run as a local subprocess with the worker's environment (``CUDA_VISIBLE_DEVICES``, ``HAR_HOME``).

Run with ``python -m deployments.pools`` against the server in ``PREFECT_API_URL``.
"""

from __future__ import annotations

import asyncio

from prefect import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect.workers.process import ProcessWorker

GPU_POOL = "har-gpu"
CPU_POOL = "har-cpu"
POOLS = {
    GPU_POOL: "Training runs; one worker per GPU, each with its own CUDA_VISIBLE_DEVICES and --limit 1.",
    CPU_POOL: "CPU-only machines (orchestration, ingest, reports, CPU training).",
}


async def ensure_pools(pools: dict[str, str] = POOLS) -> list[str]:
    """Create each missing pool; return the names that were created."""
    created = []
    async with get_client() as client:
        for name, description in pools.items():
            try:
                await client.create_work_pool(
                    WorkPoolCreate(
                        name=name,
                        type=ProcessWorker.type,
                        description=description,
                        base_job_template=ProcessWorker.get_default_base_job_template(),
                    )
                )
            except ObjectAlreadyExists:
                existing = await client.read_work_pool(name)
                if existing.type != ProcessWorker.type:
                    raise ValueError(
                        f"work pool {name!r} exists with type {existing.type!r}; the deployments"
                        f" need a {ProcessWorker.type!r} pool: delete it or pick another name"
                    ) from None
                continue
            created.append(name)
    return created


def main() -> None:
    created = asyncio.run(ensure_pools())
    for name in POOLS:
        print(f"work pool {name!r}: {'created' if name in created else 'already exists'}")


if __name__ == "__main__":
    main()
