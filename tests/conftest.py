import os

import psycopg2
import pytest
from django.contrib.auth.models import Group

from pacts.roles import ADMIN, ANALYST, EDITOR
from tests.factories import AgreementFactory


def pytest_sessionstart(session):
    """Stop at once, in one line, when the PostgreSQL the tests need is not there."""
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    try:
        psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
    except psycopg2.OperationalError as error:
        reason = str(error).strip().splitlines()[0]
        pytest.exit(f"Cannot connect to PostgreSQL at {url}: {reason}", returncode=3)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no cached fragments: ids and revisions repeat between tests.

    The per-process cache too: a test may change what it holds (the static files'
    storage, drawn into the page's head).
    """
    from django.core.cache import cache, caches

    cache.clear()
    caches["process"].clear()
    caches["fragments"].clear()


# Headers of an htmx request, for the fragment variants of pages.
HTMX = {"HX-Request": "true"}


@pytest.fixture
def reader(client, analyst):
    """The test client, signed in as an analyst."""
    client.force_login(analyst)
    return client


@pytest.fixture
def make_user(django_user_model):
    def make(role=None, username=None):
        user = django_user_model.objects.create_user(username=username or role or "norole", password="pw")
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def analyst(make_user):
    return make_user(ANALYST)


@pytest.fixture
def editor(make_user):
    return make_user(EDITOR)


@pytest.fixture
def admin_user(make_user):
    return make_user(ADMIN)


@pytest.fixture
def gsomia(db):
    """GSOMIA in brief (tests/documents.py), imported as a user would."""
    from pacts.interchange import import_document
    from pacts.models import Agreement
    from tests.documents import gsomia_document

    import_document(gsomia_document())
    return Agreement.objects.get(slug="kr-jp-gsomia")


@pytest.fixture
def agreement(db):
    return AgreementFactory(slug="kr-jp-gsomia", title="General Security of Military Information Agreement")
