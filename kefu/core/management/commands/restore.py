"""``manage.py restore FILE``: replace the database with a backup made by ``manage.py backup``."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from kefu.core import backup


class Command(BaseCommand):
    help = "Replace the database's contents with a backup file (pg_restore --clean, or SQLite's backup API)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask before overwriting")

    def handle(self, *args, file: str, yes: bool = False, **options) -> None:
        db = connections["default"].settings_dict
        if not yes and options.get("interactive", True):
            answer = input(f"Replace everything in database {db['NAME']} with {file}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Cancelled.")
        connections["default"].close()
        try:
            backup.restore(file, connections["default"].settings_dict)
        except backup.BackupError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"Restored {file} into {db['NAME']}.")
