"""The shared cache's backend (pacts/caching.py), against the machine's Redis."""

import os
import threading
import uuid

import pytest

from pacts.caching import RedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache():
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield backend
    backend.close()


def test_every_call_uses_the_same_client(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client
    redis_cache.set("answer", {"revision": 7})
    assert redis_cache.get("answer") == {"revision": 7}
    assert redis_cache._cache.get_client() is client


def test_threads_sharing_the_client_each_read_their_own_values(redis_cache):
    mixed_up = []

    def work(n):
        for i in range(200):
            redis_cache.set(f"key-{n}-{i}", (n, i))
            if redis_cache.get(f"key-{n}-{i}") != (n, i):
                mixed_up.append((n, i))
        values = redis_cache.get_many([f"key-{n}-{i}" for i in range(200)])
        if sorted(values.values()) != [(n, i) for i in range(200)]:
            mixed_up.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mixed_up == []
    assert not redis_cache.add("key-0-0", "other")
    assert redis_cache.get("key-0-0") == (0, 0)
