"""manage.py create_api_token USERNAME [--name NAME]: print a new API token for USERNAME.

Only the token goes to standard output, so a script can capture it; it is not stored
anywhere in plaintext and cannot be shown again.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.core import services


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args, **options):
        User = get_user_model()
        username = options["username"]
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as e:
            raise CommandError(_("There is no user named “%(username)s”.") % {"username": username}) from e
        try:
            token, plaintext = services.api_token_create(actor="manage.py create_api_token", user=user,
                                                         name=options["name"])
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        self.stdout.write(plaintext)
        self.stderr.write(
            _("Token “%(name)s” created for %(username)s. Copy it now: it will not be shown again.")
            % {"name": token.name, "username": username}
        )
