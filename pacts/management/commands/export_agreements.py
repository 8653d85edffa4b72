from pathlib import Path

from django.core.management.base import BaseCommand

from pacts.interchange import dumps, export_document


class Command(BaseCommand):
    help = "Export every agreement as a pacts/1 JSON document, to PATH or standard output."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="where to write; standard output when left out")

    def handle(self, path, **options):
        text = dumps(export_document())
        if path:
            Path(path).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
