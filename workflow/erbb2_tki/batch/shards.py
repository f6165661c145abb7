"""Which job processes which sample: a stable assignment of samples to shards.

Why hashing and not chunks of the sorted sheet: with chunks, one sample inserted near the top
shifts every later sample into another chunk, so every job re-runs. With a hash of the sample
name, a sample's shard depends only on its own name and the number of shards, so adding a
sample changes the membership of exactly one shard, and Snakemake (which re-runs a job when its
params or input set change) re-runs only that shard.

The number of shards follows `shard_size` as the smallest power of two that keeps the mean
shard at or below it. It therefore changes only when a batch doubles; when it does, every
shard k of n splits into k and k + n (hash mod 2n is hash mod n or that plus n), and the whole
batch is re-sharded once. `n_shards` pins the number for batches that grow over time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def shard_of(sample: str, n_shards: int) -> int:
    """The shard (0..n_shards-1) of a sample: sha256 of its name, modulo the number of shards.

    sha256 rather than hash(): Python's str hash is salted per process, and the assignment
    must be the same in every process, on every machine, in every year.
    """
    if n_shards < 1:
        raise ValueError(f"n_shards must be at least 1, got {n_shards}")
    value = int.from_bytes(hashlib.sha256(sample.encode("utf-8")).digest()[:8], "big")
    return value % n_shards


def shard_count(n_samples: int, shard_size: int, n_shards: int = 0) -> int:
    """How many shards a batch of n_samples gets (see the module docstring)."""
    if n_shards > 0:
        return n_shards
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    count = 1
    while count * shard_size < n_samples:
        count *= 2
    return count


def assign(samples: Iterable[str], shard_size: int, n_shards: int = 0) -> dict[int, list[str]]:
    """Shard number -> its samples (in the order given), for the shards that hold any sample.

    Empty shards are left out: a shard with no sample has no job.
    """
    names = list(samples)
    count = shard_count(len(names), shard_size, n_shards)
    shards: dict[int, list[str]] = {}
    for name in names:
        shards.setdefault(shard_of(name, count), []).append(name)
    return dict(sorted(shards.items()))
