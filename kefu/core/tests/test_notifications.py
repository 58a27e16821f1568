from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.core import services
from kefu.core.models import Notification
from kefu.people.testing import KefuTestCase


class NotifyServiceTests(KefuTestCase):
    def test_in_app_rows_and_one_mail_after_commit(self):
        with self.captureOnCommitCallbacks(execute=True):
            services.notify(recipients=[self.agent, self.team_lead], title="週評已提交", body="請查看", url="/x/")
        self.assertEqual(Notification.objects.filter(title="週評已提交").count(), 2)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(sorted(mail.outbox[0].to), ["agent@example.com", "lead@example.com"])
        self.assertIn("http://127.0.0.1:8000/x/", mail.outbox[0].body)

    def test_no_mail_when_the_transaction_rolls_back(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            services.notify(recipients=[self.agent], title="t")
        # The mail is only queued for commit, never sent inside the transaction.
        self.assertEqual(len(mail.outbox), 0)
        self.assertEqual(len(callbacks), 1)


class InboxPageTests(KefuTestCase):
    def test_inbox_shows_only_own_notifications_and_marks_read(self):
        services.notify(recipients=[self.agent], title="給小美的通知", email=False)
        services.notify(recipients=[self.other_agent], title="給別人的通知", email=False)
        self.login(self.agent)
        response = self.client.get(reverse("core:notifications"))
        self.assertContains(response, "給小美的通知")
        self.assertNotContains(response, "給別人的通知")
        self.assertContains(response, 'data-testid="unread-count"')

        other = Notification.objects.get(title="給別人的通知")
        # Poking at someone else's id marks nothing of theirs.
        self.client.post(reverse("core:notifications_read"), {"id": [str(other.pk)]})
        other.refresh_from_db()
        self.assertIsNone(other.read_at)

        self.client.post(reverse("core:notifications_read"))
        self.assertFalse(Notification.objects.filter(recipient=self.agent, read_at__isnull=True).exists())
        self.assertNotContains(self.client.get(reverse("core:notifications")), 'data-testid="unread-count"')

    def test_inbox_needs_login_and_post_for_marking(self):
        self.assertStatus(None, "get", reverse("core:notifications"), 302)
        self.assertStatus(self.agent, "get", reverse("core:notifications_read"), 405)

    def test_inbox_query_count_does_not_grow_with_notifications(self):
        self.login(self.agent)
        services.notify(recipients=[self.agent] * 3, title="n", email=False)
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("core:notifications"))
        # session, user, roles, unread badge, employee name, page count, the page of rows, session save
        self.assertLessEqual(len(few.captured_queries), 10)
        services.notify(recipients=[self.agent] * 40, title="n", email=False)
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(reverse("core:notifications"))
