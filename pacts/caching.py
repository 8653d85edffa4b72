"""The shared cache's backend: Django's Redis cache, with one Redis client per connection pool.

Django's client builds a new `redis.Redis` for every cache call, and that constructor
costs about as much as the round trip to Redis itself; a timeline poll makes three
calls (session, role, revision). redis-py's clients are safe to share between
threads (each command borrows a connection from the pool for its duration, and the
pool reconnects after a fork), so one client per pool serves every call.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if (client := self._clients.get(pool)) is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    """settings.CACHES' backend when REDIS_URL is set."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
