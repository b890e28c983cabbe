"""The three leader locks: a second holder cannot acquire while the first holds the lock, and can after release."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from jobs.leader import FileLeaderLock, LeaderLock, PostgresLeaderLock, RedisLeaderLock
from tests.conftest import require_service

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _assert_exclusive(make_lock: Callable[[], LeaderLock]) -> None:
    first, second = make_lock(), make_lock()
    try:
        assert first.acquire()
        assert first.refresh()
        assert not second.acquire()
        first.release()
        assert not first.refresh()
        assert second.acquire()
        assert second.refresh()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_file_lock_is_exclusive(tmp_path: Path) -> None:
    _assert_exclusive(lambda: FileLeaderLock(tmp_path / "scheduler.lock"))


def test_file_lock_is_lost_when_the_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.lock"
    lock = FileLeaderLock(path)
    try:
        assert lock.acquire()
        path.unlink()
        assert not lock.refresh()
    finally:
        lock.release()


@pytest.fixture
def redis_lock_name() -> Iterator[str]:
    """A lock name no other test run uses, deleted afterwards."""
    require_service(_redis_available(), f"Redis at {REDIS_TEST_URL}")
    name = f"invest:test-leader:{uuid.uuid4().hex}"
    yield name
    redis.Redis.from_url(REDIS_TEST_URL).delete(name)


def test_redis_lock_is_exclusive(redis_lock_name: str) -> None:
    _assert_exclusive(lambda: RedisLeaderLock(REDIS_TEST_URL, name=redis_lock_name))


def test_redis_lock_is_lost_when_the_key_expires(redis_lock_name: str) -> None:
    lock = RedisLeaderLock(REDIS_TEST_URL, name=redis_lock_name)
    assert lock.acquire()
    redis.Redis.from_url(REDIS_TEST_URL).delete(redis_lock_name)
    assert not lock.refresh()
    lock.release()


def test_postgres_advisory_lock_is_exclusive(postgres_url: str) -> None:
    _assert_exclusive(lambda: PostgresLeaderLock(postgres_url))


def test_unreachable_services_mean_not_held() -> None:
    assert not RedisLeaderLock("redis://127.0.0.1:1/0").acquire()
    assert not PostgresLeaderLock("postgresql+psycopg://postgres@127.0.0.1:1/none").acquire()
