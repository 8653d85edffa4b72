"""Test settings: the real settings, pointed at the local PostgreSQL unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pacts")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-that-is-long-enough-for-django-checks")

from pacts.settings import *  # noqa: E402, F403

PACTS_REFRESH_SECONDS = 1
# Tests speak plain HTTP to the test client; production redirects to HTTPS.
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A replica alias on the test database itself, through a second connection, for the
# routing tests (tests/test_production.py); no router sends anything there otherwise.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
