"""WSGI entry point: `gunicorn pacts.wsgi`."""

import os

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
