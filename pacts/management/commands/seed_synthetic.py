import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from pacts import synthetic


class Command(BaseCommand):
    help = (
        "Load N synthetic agreements with M events each on average into an empty PostgreSQL database, "
        "for benchmarks (see pacts/synthetic.py). Deterministic for a seed and --today."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agreements", type=int, default=1000, metavar="N")
        parser.add_argument("--events-per-agreement", type=float, default=20, metavar="M", help="the mean")
        parser.add_argument("--seed", type=int, default=1, metavar="S")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="the last day events may have occurred on (YYYY-MM-DD); default: the current date",
        )
        parser.add_argument(
            "--append",
            action="store_true",
            help="add to a database that already holds agreements, sources or publishers (refused otherwise)",
        )

    def handle(self, agreements, events_per_agreement, seed, today, append, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_synthetic loads with PostgreSQL COPY; set DATABASE_URL to a PostgreSQL database "
                "(the SQLite demo database is not supported)."
            )
        if agreements < 1 or events_per_agreement < 1:
            raise CommandError("--agreements and --events-per-agreement must be at least 1.")
        if not append and not synthetic.is_empty():
            raise CommandError(
                f"The database {connection.settings_dict['NAME']} already holds data; "
                "use --append to add synthetic agreements to it, or seed an empty database."
            )
        today = today or timezone.localdate()
        totals = synthetic.seed(
            agreements=agreements,
            events_per_agreement=events_per_agreement,
            seed=seed,
            today=today,
            progress=ProgressLine(self.stderr.isatty() if hasattr(self.stderr, "isatty") else False),
        )
        mix = ", ".join(f"{status} {count:,}" for status, count in sorted(totals.statuses.items()))
        self.stdout.write(f"Seeded {totals}.\nStatuses: {mix}.")


class ProgressLine:
    """`agreements 12,500/100,000 (12%), 0:41 elapsed, about 4:47 left` on stderr, rewritten in place."""

    def __init__(self, interactive):
        self.interactive = interactive
        self.started = time.monotonic()
        self.last_shown = 0.0

    def __call__(self, done, total, phase):
        now = time.monotonic()
        if phase == "agreements" and done < total and now - self.last_shown < (0.5 if self.interactive else 10):
            return
        self.last_shown = now
        elapsed = now - self.started
        line = f"{phase} {done:,}/{total:,} ({done / total:.0%}), {clock(elapsed)} elapsed"
        if phase == "agreements" and done < total:
            line += f", about {clock(elapsed * (total - done) / done)} left"
        end = "\r" if self.interactive and phase == "agreements" and done < total else "\n"
        sys.stderr.write(f"\x1b[2K{line}{end}" if self.interactive else f"{line}{end}")
        sys.stderr.flush()


def clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"
