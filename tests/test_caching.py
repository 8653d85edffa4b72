"""The shared cache's backend (pacts/caching.py), against the machine's Redis."""

import os
import sys
import threading
import uuid

import pytest
from django.core.cache import caches

from pacts.caching import USER_HINT_COOKIE, RedisCache, reading_ahead
from tests.conftest import HTMX

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


def test_values_read_back_as_they_were_written_and_integers_stay_digits(redis_cache):
    values = {"count": 41, "negative": -3, "flag": True, "digits": "42", "byte": b"7", "page": {"html": b"<p>"}}
    redis_cache.set_many(values)
    assert redis_cache.get_many(list(values)) == values
    # Stored as digits, so that Redis can add to it.
    assert redis_cache._cache.get_client().get(redis_cache.make_key("count")) == b"41"
    assert redis_cache.incr("count") == 42


def test_a_pickle_is_read_without_first_failing_as_an_integer(redis_cache):
    serializer = redis_cache._cache._serializer
    data = serializer.dumps({"user": 7, "hash": "a" * 400})
    raised = []

    def trace(frame, event, arg):
        if event == "exception":
            raised.append(arg[0])
        return trace

    sys.settrace(trace)
    try:
        value = serializer.loads(data)
    finally:
        sys.settrace(None)
    assert value == {"user": 7, "hash": "a" * 400}
    assert raised == []


# --- Reading ahead ---------------------------------------------------------------------


def count_commands(backend, monkeypatch):
    """The Redis commands `backend` sends from now on, by name, over any of its connections."""
    connection_class = backend._cache.get_client().connection_pool.connection_class
    backend._cache._own_connection().connect()  # its handshake is no request's doing
    sent = []
    original = connection_class.send_command

    def send_command(connection, *args, **options):
        sent.append(args[0])
        return original(connection, *args, **options)

    monkeypatch.setattr(connection_class, "send_command", send_command)
    return sent


def test_keys_read_ahead_are_read_in_one_round_trip_and_answered_once(redis_cache, monkeypatch):
    redis_cache.set_many({"session": {"user": 7}, "revision": (3, 12)})
    sent = count_commands(redis_cache, monkeypatch)
    with reading_ahead():
        redis_cache.read_ahead(["session", "revision", "absent"])
        assert redis_cache.get("session", version=2) is None  # another key, asked of Redis
        sent.remove("GET")
        assert redis_cache.get("session") == {"user": 7}
        assert redis_cache.get("revision") == (3, 12)
        assert redis_cache.get("absent", "default") == "default"
        assert sent == ["MGET"]
        # Each once: a second get asks Redis, which may hold something newer by then.
        assert redis_cache.get("revision") == (3, 12)
        assert sent == ["MGET", "GET"]


def test_each_thread_reads_ahead_over_its_own_connection_and_a_forked_worker_makes_new_ones(redis_cache, monkeypatch):
    client = redis_cache._cache
    redis_cache.set_many({f"key-{n}": n for n in range(8)})
    found, connections = {}, {}

    def work(n):
        with reading_ahead():
            redis_cache.read_ahead([f"key-{n}", "absent"])
            found[n] = (redis_cache.get(f"key-{n}"), redis_cache.get("absent", "none"))
        connections[n] = client._own_connection()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == {n: (n, "none") for n in range(8)}
    assert len({id(connection) for connection in connections.values()}) == 8
    mine = client._own_connection()
    assert client._own_connection() is mine
    monkeypatch.setattr("pacts.caching.os.getpid", lambda: -1)
    assert client._own_connection() is not mine


def test_when_its_own_connection_fails_the_read_ahead_goes_through_the_pool(redis_cache, monkeypatch):
    redis_cache.set("session", {"user": 7})
    sent = count_commands(redis_cache, monkeypatch)
    own = redis_cache._cache._own_connection()

    def gone(*args, **options):
        raise ConnectionError("the server restarted")

    monkeypatch.setattr(own, "send_command", gone)
    with reading_ahead():
        redis_cache.read_ahead(["session"])
        assert redis_cache.get("session") == {"user": 7}
    assert sent == ["MGET"]  # once, by the client: the failed attempt sent nothing
    assert own._sock is None  # closed, and opened afresh next time


def test_what_the_request_writes_is_read_back_from_redis(redis_cache):
    redis_cache.set_many({"a": 1, "b": 2, "c": 3, "d": 4})
    with reading_ahead():
        redis_cache.read_ahead(["a", "b", "c", "d", "e"])
        redis_cache.set("a", 10)
        redis_cache.delete("b")
        redis_cache.set_many({"c": 30})
        redis_cache.incr("d")
        redis_cache.add("e", 50)
        assert [redis_cache.get(key) for key in "abcde"] == [10, None, 30, 5, 50]


def test_outside_a_request_nothing_is_read_ahead(redis_cache, monkeypatch):
    redis_cache.set("a", 1)
    sent = count_commands(redis_cache, monkeypatch)
    redis_cache.read_ahead(["a"])
    assert sent == []
    assert redis_cache.get("a") == 1
    assert sent == ["GET"]


@pytest.fixture
def redis_site(settings):
    """The site as deployed with REDIS_URL: sessions, users, roles and revisions in Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "pacts.caching.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
        "process": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "process"},
        "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-fragments"},
    }
    settings.PACTS_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield caches["default"]
    caches["default"].close()


def test_a_poll_a_304_and_a_cached_timeline_cost_one_round_trip_each_and_no_query(
    client, analyst, gsomia, redis_site, monkeypatch, django_assert_num_queries
):
    client.force_login(analyst)
    url = gsomia.get_absolute_url()
    first = client.get(url)  # learns the revision, the user with its role, and draws the page
    assert client.cookies[USER_HINT_COOKIE].value == str(analyst.pk)
    sent = count_commands(redis_site, monkeypatch)
    with django_assert_num_queries(0):
        poll = client.get(f"{url}?since={gsomia.revision}", headers=HTMX)
        not_modified = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert (poll.status_code, not_modified.status_code) == (204, 304)
    assert sent == ["MGET", "MGET"]  # session, user and revision together, each time
    sent.clear()
    with django_assert_num_queries(0):
        again = client.get(url)
    assert sent == ["MGET"]  # the page is kept under the revision the MGET brought, in this worker
    assert main_of(again) == main_of(first)
    caches["fragments"].clear()  # as another worker, which has not read the page yet
    sent.clear()
    with django_assert_num_queries(0):
        assert main_of(client.get(url)) == main_of(first)
        assert main_of(client.get(url)) == main_of(first)
    assert sent == ["MGET", "GET", "MGET"]  # read from Redis once, then from its own memory


def test_a_worker_never_shows_its_copy_of_a_timeline_once_the_agreement_changed(client, analyst, gsomia, redis_site):
    client.force_login(analyst)
    url = gsomia.get_absolute_url()
    assert "Renamed for the test" not in client.get(url).content.decode()
    gsomia.title = "Renamed for the test"
    gsomia.save()
    gsomia.store_status()  # a new revision, as every edit through the site makes
    assert "Renamed for the test" in client.get(url).content.decode()


def main_of(response):
    """The page's content, without the head and navigation around it (their CSRF token changes)."""
    return response.content.decode().split('<main id="main">')[1]


def test_a_wrong_user_hint_costs_a_round_trip_and_changes_nothing(
    client, analyst, editor, gsomia, redis_site, monkeypatch
):
    client.force_login(analyst)
    url = gsomia.get_absolute_url()
    client.get(url)
    client.cookies[USER_HINT_COOKIE] = str(editor.pk)  # another user's id, read ahead in vain
    sent = count_commands(redis_site, monkeypatch)
    page = client.get(url).content.decode()
    assert sent == ["MGET", "GET"]  # then the analyst; the kept page is in this worker's memory
    assert ">analyst<" in page
    assert "Worklist" not in page  # the editor's navigation was never drawn
    assert client.cookies[USER_HINT_COOKIE].value == str(analyst.pk)  # put right


def test_a_user_changed_since_the_last_request_is_read_again(client, analyst, gsomia, redis_site):
    client.force_login(analyst)
    url = gsomia.get_absolute_url()
    assert client.get(f"{url}?since={gsomia.revision}", headers=HTMX).status_code == 204
    analyst.is_active = False
    analyst.save()  # marks the cached user: the next request reads the database
    response = client.get(f"{url}?since={gsomia.revision}", headers=HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_signing_out_drops_the_user_hint(client, analyst, gsomia, redis_site):
    client.force_login(analyst)
    client.get(gsomia.get_absolute_url())
    assert client.cookies[USER_HINT_COOKIE].value == str(analyst.pk)
    client.post("/accounts/logout/")
    assert client.cookies[USER_HINT_COOKIE].value == ""
    assert client.get("/healthz").status_code == 200
