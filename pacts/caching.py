"""The shared cache's backend: Django's Redis cache, with one Redis client per connection
pool, and reading ahead in one round trip what a request is about to read.

Django's client builds a new `redis.Redis` for every cache call, and that constructor
costs about as much as the round trip to Redis itself. redis-py's clients are safe to
share between threads (each command borrows a connection from the pool for its
duration, and the pool reconnects after a fork), so one client per pool serves every
call.

Each command through the client still costs more CPU than a PostgreSQL `SELECT 1`
(73 µs against 45 on the bench machine), and a signed-in request makes several that
depend on nothing but the request itself: its session, its user, and on a timeline the
agreement's revision. So `ReadAheadMiddleware` reads them all with one MGET once the
view is chosen, over the thread's own connection (48 µs), and the `get` of each is
answered from what was read. What the request writes itself is read from Redis again.
"""

import os
import pickle
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends import redis
from redis.exceptions import RedisError

from pacts.logs import loaded_user

# The request's values read ahead, per backend: {backend: {key as asked: value or MISSING}}.
_read = ContextVar("pacts_read_ahead", default=None)
MISSING = object()

# Names the signed-in user's id before the session is read, so that both are read together.
# Only a hint: the user comes from the id the session holds, so a wrong one costs a round trip.
USER_HINT_COOKIE = "pacts_user"


# What every pickle since protocol 2 starts with, and digits never do.
PICKLE_PROTO = pickle.PROTO


class RedisSerializer(redis.RedisSerializer):
    """Django's format (integers as digits, so that Redis can add to them; the rest pickled), read faster.

    Django's reads every value as an integer first and unpickles it once `int()` fails,
    and that ValueError spells out the repr of the whole value. For the session, the
    user and the revision that a poll reads, it cost about 20 of the poll's 600 µs.
    """

    def loads(self, data):
        return pickle.loads(data) if data[:1] == PICKLE_PROTO else int(data)


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("serializer", RedisSerializer)
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._own = threading.local()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if (client := self._clients.get(pool)) is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def get_values(self, keys):
        """The values at `keys` (made keys) in their order, MISSING where there is none: one MGET.

        Sent over the thread's own connection, made as the pool makes its own. Borrowing
        one from the pool and going through the client's command path cost about 45 of
        a poll's 650 µs in-process (redis-py counts every loan for its metrics, checks
        arguments for deprecations and polls the socket before each command). If
        anything goes wrong on it, the client does it again with its own retries.
        """
        connection = self._own_connection()
        try:
            connection.send_command("MGET", *keys)
            values = connection.read_response()
        except (RedisError, OSError):
            connection.disconnect()  # a reply left half-read must never answer the next command
            values = self.get_client().mget(keys)
        return [MISSING if value is None else self._serializer.loads(value) for value in values]

    def _own_connection(self):
        """This thread's connection for `get_values`; a forked worker makes its own."""
        if getattr(self._own, "pid", None) != os.getpid():
            pool = self._get_connection_pool(False)
            self._own.connection = pool.connection_class(**pool.connection_kwargs)
            self._own.pid = os.getpid()
        return self._own.connection


class RedisCache(redis.RedisCache):
    """settings.CACHES' backend when REDIS_URL is set."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key):
        """Redis takes any key: memcached's warnings (length, spaces) would scan every key for nothing."""

    def read_ahead(self, keys):
        """Read `keys` in one round trip; within `reading_ahead()`, the next `get` of each is answered from it."""
        if (read := _read.get()) is None:
            return
        values = self._cache.get_values([self.make_and_validate_key(key) for key in keys])
        # Kept under the keys as asked, so that a `get` finds its value before making its key.
        read[self] = dict(zip(keys, values, strict=True))

    def get(self, key, default=None, version=None):
        if version is None and (read := _read.get()) and key in (ahead := read.get(self, ())):
            value = ahead.pop(key)  # once: a second get sees whatever was written meanwhile
            return default if value is MISSING else value
        return self._cache.get(self.make_and_validate_key(key, version=version), default)

    def _written(self, *keys, version=None):
        # Whatever the version: forgetting a value read ahead costs a round trip at most.
        if read := _read.get():
            ahead = read.get(self, {})
            for key in keys:
                ahead.pop(key, None)

    def add(self, key, value, timeout=redis.DEFAULT_TIMEOUT, version=None):
        self._written(key, version=version)
        return super().add(key, value, timeout, version)

    def set(self, key, value, timeout=redis.DEFAULT_TIMEOUT, version=None):
        self._written(key, version=version)
        super().set(key, value, timeout, version)

    def touch(self, key, timeout=redis.DEFAULT_TIMEOUT, version=None):
        self._written(key, version=version)
        return super().touch(key, timeout, version)

    def delete(self, key, version=None):
        self._written(key, version=version)
        return super().delete(key, version)

    def incr(self, key, delta=1, version=None):
        self._written(key, version=version)
        return super().incr(key, delta, version)

    def set_many(self, data, timeout=redis.DEFAULT_TIMEOUT, version=None):
        self._written(*data, version=version)
        return super().set_many(data, timeout, version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._written(*keys, version=version)
        return super().delete_many(keys, version)

    def clear(self):
        if read := _read.get():
            read.pop(self, None)
        return super().clear()


@contextmanager
def reading_ahead():
    """Within this block, `RedisCache.read_ahead` keeps what it read for the block's `get`s."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


def reads_ahead(keys_for):
    """Declares the cache keys a view reads on (almost) every request: `keys_for(**view_kwargs)`."""

    def mark(view):
        view.reads_ahead = keys_for
        return view

    return mark


class ReadAheadMiddleware:
    """Reads the session, the signed-in user and the view's declared keys from Redis in one round trip.

    Only for GET and HEAD with a shared Redis cache; the session and the user only for
    views marked `reads_user` (pacts.access's decorators), the user's id from
    USER_HINT_COOKIE, which this middleware keeps in step with the signed-in user.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.session_prefix = getattr(import_module(settings.SESSION_ENGINE).SessionStore, "cache_key_prefix", None)

    def __call__(self, request):
        with reading_ahead():
            response = self.get_response(request)
        keep_user_hint(request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not (settings.PACTS_SHARED_CACHE and hasattr(cache, "read_ahead") and request.method in ("GET", "HEAD")):
            return None
        # Here, not at the top: settings.CACHES loads this module, possibly before the models are ready.
        from pacts.roles import user_key

        keys = []
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        # Only for views that check who is signed in (pacts.access): /healthz never reads them.
        if getattr(view_func, "reads_user", False) and self.session_prefix and session_key:
            keys.append(self.session_prefix + session_key)
            if (hint := request.COOKIES.get(USER_HINT_COOKIE, "")).isdigit():
                keys.append(user_key(int(hint)))
        if keys_for := getattr(view_func, "reads_ahead", None):
            keys += keys_for(**view_kwargs)
        if keys:
            cache.read_ahead(keys)
        return None


def keep_user_hint(request, response):
    """Name the loaded user in USER_HINT_COOKIE, or drop the cookie once nobody is signed in."""
    if not settings.PACTS_SHARED_CACHE or (user := loaded_user(request)) is None:
        return
    hint = request.COOKIES.get(USER_HINT_COOKIE)
    if user.is_authenticated and hint != str(user.pk):
        response.set_cookie(
            USER_HINT_COOKIE,
            str(user.pk),
            max_age=settings.SESSION_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    elif not user.is_authenticated and hint is not None:
        response.delete_cookie(USER_HINT_COOKIE, samesite="Lax")
