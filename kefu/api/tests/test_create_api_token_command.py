"""manage.py create_api_token USERNAME [--name NAME]."""

from io import StringIO

from django.core.management import CommandError, call_command

from kefu.api.testing import ApiTestCase
from kefu.core.models import ApiToken, AuditEntry


class CreateApiTokenCommandTests(ApiTestCase):
    def test_prints_a_token_that_works(self):
        out, err = StringIO(), StringIO()
        call_command("create_api_token", "hr", "--name", "HR system sync", stdout=out, stderr=err)
        plaintext = out.getvalue().strip()
        self.assertRegex(plaintext, r"^kefu_[0-9a-f]{8}_\S+$")
        self.assertNotIn(plaintext, err.getvalue())
        token = ApiToken.objects.get(user=self.hr)
        self.assertEqual(token.name, "HR system sync")
        entry = AuditEntry.objects.get(action="api_token.create", object_id=str(token.pk))
        self.assertEqual(entry.actor_repr, "manage.py create_api_token")
        response = self.api("get", "/employees", token=plaintext)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["count"], 12)

    def test_unknown_user_is_a_clear_error(self):
        with self.assertRaisesMessage(CommandError, "nobody"):
            call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())
        self.assertFalse(ApiToken.objects.exists())

    def test_inactive_user_is_refused(self):
        self.agent.is_active = False
        self.agent.save(update_fields=["is_active"])
        with self.assertRaises(CommandError):
            call_command("create_api_token", "agent", stdout=StringIO(), stderr=StringIO())
        self.assertFalse(ApiToken.objects.exists())
