"""``manage.py chat_retry``: queue again the chat deliveries whose next try is due (cron; README)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kefu.integrations import chat


class Command(BaseCommand):
    help = _("Queue again the chat-bot deliveries whose next try is due.")

    def handle(self, *args, **options):
        self.stdout.write(_("%(n)d deliveries queued.") % {"n": chat.retry_due()})
