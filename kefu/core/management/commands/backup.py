"""``manage.py backup``: a consistent copy of the database under var/backups/ (kefu/core/backup.py)."""

from django.core.management.base import BaseCommand, CommandError

from kefu.core import backup


class Command(BaseCommand):
    help = "Back the database up (pg_dump -Fc, or SQLite's backup API) to var/backups/kefu-<timestamp>.*"

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="where to write the file (default var/backups/ or KEFU_BACKUP_DIR)")

    def handle(self, *args, dir=None, **options) -> None:
        from pathlib import Path

        try:
            path = backup.backup("default", directory=Path(dir) if dir else None)
        except backup.BackupError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(str(path))
