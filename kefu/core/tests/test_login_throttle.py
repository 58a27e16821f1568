"""Login throttling (issue 10 item 4): a user name and an address are each locked after
AXES_FAILURE_LIMIT (5) failed logins, independently of each other (django-axes)."""

from django.test import override_settings
from django.urls import reverse

from kefu.people.testing import PASSWORD, KefuTestCase


class LoginThrottleTests(KefuTestCase):
    def _login(self, username: str, password: str, ip: str, **extra):
        return self.client.post(reverse("login"), {"username": username, "password": password},
                                REMOTE_ADDR=ip, **extra)

    def _logged_in(self) -> bool:
        return "_auth_user_id" in self.client.session

    def test_a_user_name_is_locked_whatever_the_address(self):
        # Five wrong passwords for "agent", each from a different address: no address reaches the limit.
        for i in range(4):
            assert self._login("agent", "wrong", f"10.1.0.{i + 1}").status_code == 200
        # The fifth failure reaches AXES_FAILURE_LIMIT and is answered with the lockout page.
        assert self._login("agent", "wrong", "10.1.0.5").status_code == 429
        # The right password, from a sixth address, is refused: the name is locked.
        answer = self._login("agent", PASSWORD, "10.1.0.99")
        assert answer.status_code == 429
        assert b"Too many failed logins" in answer.content
        assert not self._logged_in()
        # Somebody else logs in from one of those addresses: only the name was locked.
        assert self._login("hr", PASSWORD, "10.1.0.1").status_code == 302
        assert self._logged_in()

    def test_an_address_is_locked_whatever_the_names_it_tries(self):
        # Five different names from one address, one wrong password each: no name reaches the limit.
        for name in ("agent", "lead", "head", "clerk"):
            assert self._login(name, "wrong", "10.2.0.7").status_code == 200
        assert self._login("nobody", "wrong", "10.2.0.7").status_code == 429
        # A correct login from that address is refused: the address is locked.
        assert self._login("hr", PASSWORD, "10.2.0.7").status_code == 429
        assert not self._logged_in()
        # The same person from another address gets in: only the address was locked.
        assert self._login("hr", PASSWORD, "10.2.0.8").status_code == 302
        assert self._logged_in()

    def test_four_failures_do_not_lock(self):
        for _ in range(4):
            self._login("agent", "wrong", "10.3.0.1")
        assert self._login("agent", PASSWORD, "10.3.0.1").status_code == 302
        # A success resets the count (AXES_RESET_ON_SUCCESS): four more failures still do not lock.
        self.client.logout()
        for _ in range(4):
            self._login("agent", "wrong", "10.3.0.1")
        assert self._login("agent", PASSWORD, "10.3.0.1").status_code == 302

    @override_settings(KEFU_PROXY_COUNT=1)
    def test_behind_the_proxy_the_client_address_counts_not_the_proxys(self):
        """BEHIND_PROXY: every request reaches Kefu from nginx (127.0.0.1); nginx appends the client's
        address to X-Forwarded-For. A made-up entry the client sends itself (left of it) changes nothing."""
        for i, name in enumerate(("agent", "lead", "head", "clerk", "nobody")):
            self._login(name, "wrong", "127.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 192.0.2.10")
        assert self._login("hr", PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.10").status_code == 429
        assert self._login("hr", PASSWORD, "127.0.0.1",
                           HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.10").status_code == 429
        # Another client behind the same proxy is not locked out with her.
        assert self._login("hr", PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.11").status_code == 302

    def test_directly_reachable_a_forwarded_header_is_ignored(self):
        """Without BEHIND_PROXY (KEFU_PROXY_COUNT 0) the header is the client's own word: REMOTE_ADDR counts."""
        for i, name in enumerate(("agent", "lead", "head", "clerk", "nobody")):
            self._login(name, "wrong", "10.4.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        assert self._login("hr", PASSWORD, "10.4.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
