"""``manage.py audit_verify``: recompute the audit hash chain and name the first broken entry."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.core import audit


class Command(BaseCommand):
    help = "Check that no audit entry was altered or removed; exit non-zero naming the first broken one."

    def handle(self, *args, **options) -> None:
        result = audit.verify()
        if result.ok:
            self.stdout.write(_("%(count)d audit entries checked: OK") % {"count": result.checked})
            return
        entry = result.broken
        if entry is None:
            raise CommandError(
                _("Audit chain broken after %(count)d intact entries: %(why)s.")
                % {"count": result.checked, "why": result.reason}
            )
        raise CommandError(
            _("Audit chain broken at entry #%(id)s (%(action)s on %(type)s:%(object_id)s “%(repr)s”, %(at)s): %(why)s.")
            % {
                "id": entry.pk,
                "action": entry.action,
                "type": entry.object_type,
                "object_id": entry.object_id,
                "repr": entry.object_repr,
                "at": entry.at.isoformat(),
                "why": result.reason,
            }
        )
