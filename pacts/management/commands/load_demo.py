from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pacts.interchange import import_document, read_document
from pacts.roles import ROLES

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "agreements.json"


class Command(BaseCommand):
    help = "Import the bundled demo agreements; with --users, create one demo account per role (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--users", action="store_true", help="create analyst, editor and admin demo accounts")

    def handle(self, users, **options):
        if users and not settings.DEBUG:
            raise CommandError("--users creates accounts with known passwords; it runs only with DEBUG on.")
        report = import_document(read_document(DEMO_FILE.read_bytes()), origin=DEMO_FILE.name)
        self.stdout.write(f"Demo data: {report}")
        if users:
            self.create_demo_users()

    @transaction.atomic
    def create_demo_users(self):
        User = get_user_model()
        self.stdout.write("Demo accounts (username / password):")
        for role in ROLES:
            user, _ = User.objects.get_or_create(username=role)
            password = f"{role}-demo"
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(f"  {role:8} {role} / {password}")
