"""The "API tokens" page (/account/tokens/): make, see once, list, revoke — only one's own."""

import hashlib
import re

from django.urls import reverse

from kefu.api.testing import ApiTestCase
from kefu.core import services
from kefu.core.models import ApiToken

TOKEN_RE = re.compile(r"kefu_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


class TokenPageTests(ApiTestCase):
    url = reverse("core:api_tokens")

    def test_anonymous_is_sent_to_log_in(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])

    def test_create_shows_the_token_once_and_it_works(self):
        self.login(self.team_lead)
        response = self.client.post(self.url, {"name": "my script"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        found = TOKEN_RE.findall(response.content.decode())
        self.assertEqual(len(set(found)), 1, found)
        plaintext = found[0]
        token = ApiToken.objects.get(user=self.team_lead)
        self.assertEqual(token.key_hash, hashlib.sha256(plaintext.encode()).hexdigest())
        self.assertEqual(token.name, "my script")
        # The list never shows it again, only its start.
        listing = self.client.get(self.url).content.decode()
        self.assertNotIn(plaintext, listing)
        self.assertEqual(TOKEN_RE.findall(listing), [])
        self.assertIn(f"kefu_{token.prefix}_", listing)
        self.assertIn("my script", listing)
        # And it lets a program in as her.
        self.client.logout()
        self.assertEqual(self.api("get", "/employees", token=plaintext).json()["count"], 2)

    def test_blank_name_is_refused(self):
        self.login(self.agent)
        response = self.client.post(self.url, {"name": "  "})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(TOKEN_RE.findall(response.content.decode()), [])
        self.assertFalse(ApiToken.objects.filter(user=self.agent).exists())

    def test_list_shows_only_her_own_tokens(self):
        services.api_token_create(actor=self.hr, user=self.hr, name="hr secret sync")
        services.api_token_create(actor=self.agent, user=self.agent, name="agent laptop")
        self.login(self.agent)
        page = self.client.get(self.url).content.decode()
        self.assertIn("agent laptop", page)
        self.assertNotIn("hr secret sync", page)

    def test_revoke_asks_then_revokes(self):
        token, plaintext = services.api_token_create(actor=self.agent, user=self.agent, name="old")
        self.login(self.agent)
        revoke_url = reverse("core:api_token_revoke", args=[token.pk])
        confirm = self.client.get(revoke_url)
        self.assertEqual(confirm.status_code, 200)
        self.assertContains(confirm, 'data-testid="confirm-revoke"')
        token.refresh_from_db()
        self.assertIsNone(token.revoked_at)  # asking changes nothing
        response = self.client.post(revoke_url)
        self.assertRedirects(response, self.url)
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        self.client.logout()
        self.assertEqual(self.api("get", "/employees", token=plaintext).status_code, 401)

    def test_someone_elses_token_is_404(self):
        token, plaintext = services.api_token_create(actor=self.hr, user=self.hr, name="hr sync")
        self.login(self.agent)
        revoke_url = reverse("core:api_token_revoke", args=[token.pk])
        self.assertEqual(self.client.get(revoke_url).status_code, 404)
        self.assertEqual(self.client.post(revoke_url).status_code, 404)
        token.refresh_from_db()
        self.assertIsNone(token.revoked_at)
        self.client.logout()
        self.assertEqual(self.api("get", "/employees", token=plaintext).status_code, 200)

    def test_revoking_twice_is_harmless(self):
        token, _plaintext = services.api_token_create(actor=self.agent, user=self.agent, name="old")
        self.login(self.agent)
        revoke_url = reverse("core:api_token_revoke", args=[token.pk])
        self.client.post(revoke_url)
        self.assertRedirects(self.client.post(revoke_url), self.url)
        self.assertRedirects(self.client.get(revoke_url), self.url)

    def test_user_menu_links_to_the_page(self):
        self.login(self.agent)
        self.assertContains(self.client.get(reverse("core:workbench")), f'href="{self.url}"')
