"""WSGI entry point: `gunicorn pacts.wsgi`."""

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacts.settings")
# Read by the settings, which load below: web requests get statement and lock timeouts.
os.environ["PACTS_WEB"] = "1"

# Release steps such as migrate run without the secret; serving never does.
if not settings.DEBUG and not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("Set SECRET_KEY in the environment before serving (or DEBUG=1 for development).")

application = get_wsgi_application()


def warm_up():
    """Load in the gunicorn master what each worker would otherwise load on its first requests.

    Every view module (through the URLconf) and every template of the project, compiled
    by the cached loader. Workers are forked from the master with all of it, so a worker
    that replaces another (gunicorn's max_requests) serves at full speed at once. Cold,
    a new process's first requests for six kept pages took 100-190 ms together (the
    largest timeline 51-86 ms); warmed, 47-89 ms (10-26 ms); in a worker under load its
    four threads would each compile at once, holding each other up.
    """
    from django.template import engines
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 (imports every view and fills the reverse lookups)
    engine = engines["django"]
    for folder in engine.engine.dirs:
        for path in sorted(Path(folder).rglob("*.html")):
            engine.get_template(path.relative_to(folder).as_posix())
