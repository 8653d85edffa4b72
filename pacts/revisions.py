"""Each agreement's current revision by slug, in the shared cache: a poll or a 304 reads no table;
and the version of the data as a whole, under which pages computed from all of it are kept.

Only with a cache shared by every app server (settings.PACTS_SHARED_CACHE, Redis):
with one cache per process, a write seen by one worker would leave the others
answering "unchanged" from their own copy.

Never stale, because of who writes what and when:

- `remember` is called by the only writers of `revision` (`Agreement.store_status`,
  `AgreementQuerySet.touch`) right after their UPDATE, while the rows are locked and
  before the commit. The next writer of the same agreement waits for that lock, so
  the entries are set in the order of the revisions. Between the set and the commit
  a poll sees the new revision early: it then reads the database, which still says
  "unchanged", and answers so. A rollback leaves a revision that never was: polls
  then read the database until the entry expires, which costs time, not truth.
- a reader that found nothing only `add`s what it read, so it never overwrites a
  writer's newer entry (a replica's lag is far shorter than an entry lives).
- a deleted or renamed agreement's old slug gets ASK_DATABASE, which readers cannot
  overwrite, so it answers 404 as soon as the change is committed.
"""

import hashlib
from typing import NamedTuple

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connections, router

# Bounds the cost of a rolled-back write and of a database restored under a warm cache.
TIMEOUT = 60 * 60
ASK_DATABASE = "ask-database"


class Revision(NamedTuple):
    pk: int
    revision: int


def key(slug):
    return f"agreement-revision:{slug}"


def known(slug):
    """The `Revision` of the agreement at `slug` as last written, or None: then ask the database."""
    if not settings.PACTS_SHARED_CACHE:
        return None
    value = cache.get(key(slug))
    return Revision(*value) if isinstance(value, (list, tuple)) else None


def learn(agreement):
    """Keep what a reader read from the database, unless a writer was first."""
    if settings.PACTS_SHARED_CACHE:
        cache.add(key(agreement.slug), (agreement.pk, agreement.revision), timeout=TIMEOUT)


def remember(agreements):
    """Set the revisions these agreements have just taken; call after the UPDATE, before the commit."""
    if settings.PACTS_SHARED_CACHE:
        rows = agreements.order_by().values_list("slug", "pk", "revision")
        cache.set_many({key(slug): (pk, revision) for slug, pk, revision in rows}, timeout=TIMEOUT)


def forget(slug):
    """The agreement at `slug` is going (deleted or renamed): ask the database from now on."""
    if settings.PACTS_SHARED_CACHE:
        cache.set(key(slug), ASK_DATABASE, timeout=TIMEOUT)


# How long a value kept under the data version lives, at most: see data_version for why
# it is not kept for ever.
DATA_TIMEOUT = 10 * 60


def data_version():
    """A text that changes with every write to any agreement or its events, from one query over two index ends.

    The newest `changed_at` (every write stores it, through `store_status` or
    `touch`) and the newest row of the agreements' history (a deletion, or a
    restore that brings back an old `changed_at`, stores nothing else). Both are
    read from the end of an index, so the cost does not grow with the data.
    `changed_at` is when the writing transaction began, and history ids are drawn
    before the commit, so a long write that commits after a shorter, later one
    leaves the version as it was: DATA_TIMEOUT bounds how long that goes unseen.
    """
    Agreement = apps.get_model("pacts", "Agreement")
    # From the database the request reads its data from (a replica, or the primary after a
    # write): a version newer than the data it is computed from would keep a stale value.
    database = router.db_for_read(Agreement)
    # By name: `Agreement.history` builds a new manager class on every access.
    history = apps.get_model("pacts", "HistoricalAgreement")._meta
    # Two subqueries, not one aggregate: PostgreSQL reads each lone max() from the end of its
    # index, where together they would scan the tables. (A count(*) of agreements, used
    # before, grew with the data: 1.7x slower kept pages at 100,000 agreements than at 1,000.)
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(changed_at) FROM {Agreement._meta.db_table}),"
            f" (SELECT max({history.pk.column}) FROM {history.db_table})"
        )
        newest, history_id = cursor.fetchone()
    return f"{newest}/{history_id}"


def kept_key(name, parts):
    """The cache key of the value `name` for the data as it is now and `parts` (one query).

    `parts` are texts naming whatever else the value depends on: filters, the day,
    a party. Any write makes a new data version, hence new keys, so nothing kept
    under one needs invalidating; old values simply age out (DATA_TIMEOUT).
    """
    named = "|".join([data_version(), *parts])
    return f"{name}:{hashlib.sha256(named.encode()).hexdigest()}"


def kept(name, parts, compute, timeout=DATA_TIMEOUT):
    """What `compute()` returns for the data as it is now, computed once per data version.

    For values that grow with the data (counts, medians, long rendered lists) and
    change only when agreements or their events do; see `kept_key`. A shorter
    `timeout` suits values that also age with the clock.
    """
    key = kept_key(name, parts)
    if (value := cache.get(key)) is None:
        value = compute()
        cache.set(key, value, timeout=timeout)
    return value


def forget_old_slug(sender, instance, raw=False, **kwargs):
    """pre_save of an Agreement: a new slug leaves the old one to the database."""
    if not settings.PACTS_SHARED_CACHE or raw or instance._state.adding or instance.pk is None:
        return
    old = type(instance)._base_manager.filter(pk=instance.pk).values_list("slug", flat=True).first()
    if old is not None and old != instance.slug:
        forget(old)


def forget_deleted(sender, instance, **kwargs):
    """post_delete of an Agreement."""
    forget(instance.slug)
