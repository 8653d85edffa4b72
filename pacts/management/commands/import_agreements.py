import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from pacts.interchange import InterchangeError, import_document, read_document


class Command(BaseCommand):
    help = "Import a pacts/1 JSON document (a path, or - for standard input). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the JSON file, or - to read standard input")
        parser.add_argument("--dry-run", action="store_true", help="report what would change and write nothing")
        parser.add_argument("--user", help="the username recorded in history as the importer")

    def handle(self, path, dry_run, user, **options):
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f'--user: there is no user "{user}"')
        if path == "-":
            raw, origin = sys.stdin.buffer.read(), "standard input"
        else:
            try:
                raw, origin = Path(path).read_bytes(), Path(path).name
            except OSError as error:
                raise CommandError(f"{path}: {error.strerror}") from None
        try:
            report = import_document(read_document(raw), user=importer, origin=origin, dry_run=dry_run)
        except InterchangeError as error:
            for line in error.errors:
                self.stderr.write(line)
            raise CommandError(f"{origin}: {len(error.errors)} error(s); nothing was written") from None
        prefix = "Dry run, nothing written: would have " if dry_run else "Imported: "
        self.stdout.write(prefix + str(report))
