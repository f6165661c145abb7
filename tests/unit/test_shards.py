"""Shard assignment: stable, so that adding a sample changes one shard only."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erbb2_tki.batch import shards

names = st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)


def test_shard_of_is_sha256_of_the_name() -> None:
    # Known answer, computed independently of the module: the first 8 bytes of sha256, mod n.
    value = int.from_bytes(hashlib.sha256(b"S01").digest()[:8], "big")
    assert shards.shard_of("S01", 7) == value % 7
    assert shards.shard_of("S01", 1) == 0


@pytest.mark.parametrize(
    ("n_samples", "shard_size", "expected"),
    [
        (0, 50, 1),
        (1, 50, 1),
        (50, 50, 1),
        (51, 50, 2),
        (100, 50, 2),
        (101, 50, 4),
        (500, 50, 16),
        (1000, 50, 32),
        (6, 2, 4),
        (7, 2, 4),
        (9, 2, 8),
    ],
)
def test_shard_count_is_the_smallest_power_of_two(
    n_samples: int, shard_size: int, expected: int
) -> None:
    assert shards.shard_count(n_samples, shard_size) == expected


def test_pinned_shard_count_wins() -> None:
    assert shards.shard_count(10_000, 1, n_shards=3) == 3


def test_invalid_counts() -> None:
    with pytest.raises(ValueError):
        shards.shard_of("x", 0)
    with pytest.raises(ValueError):
        shards.shard_count(5, 0)


@given(st.lists(names, unique=True, min_size=1, max_size=60), names, st.integers(1, 8))
def test_adding_a_sample_changes_exactly_one_shard(
    existing: list[str], new: str, n_shards: int
) -> None:
    if new in existing:
        return
    before = shards.assign(existing, shard_size=1, n_shards=n_shards)
    after = shards.assign([*existing, new], shard_size=1, n_shards=n_shards)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {shards.shard_of(new, n_shards)}


@given(st.lists(names, unique=True, min_size=1, max_size=60))
def test_assignment_ignores_order_of_other_samples(batch: list[str]) -> None:
    forward = shards.assign(batch, shard_size=3)
    backward = shards.assign(list(reversed(batch)), shard_size=3)
    assert {k: sorted(v) for k, v in forward.items()} == {k: sorted(v) for k, v in backward.items()}


@given(st.lists(names, unique=True, min_size=1, max_size=80), st.integers(1, 10))
def test_every_sample_in_one_shard_and_no_empty_shard(batch: list[str], size: int) -> None:
    assigned = shards.assign(batch, shard_size=size)
    flat = [s for members in assigned.values() for s in members]
    assert sorted(flat) == sorted(batch)
    assert all(assigned.values())
    assert max(assigned) < shards.shard_count(len(batch), size)


@given(names, st.integers(0, 6))
def test_doubling_splits_a_shard_in_two(name: str, power: int) -> None:
    n = 2**power
    assert shards.shard_of(name, 2 * n) in (shards.shard_of(name, n), shards.shard_of(name, n) + n)
