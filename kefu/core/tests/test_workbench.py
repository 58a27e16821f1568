import pytest
from django.urls import reverse

from kefu.core.registry import Todo, workbench
from kefu.people.testing import KefuTestCase


class WorkbenchTests(KefuTestCase):
    def test_anonymous_is_sent_to_login(self):
        response = self.client.get(reverse("core:workbench"))
        self.assertRedirects(response, f"{reverse('login')}?next=/", fetch_redirect_response=False)

    @pytest.mark.zh_default
    def test_empty_state_in_traditional_chinese_by_default(self):
        self.login(self.agent)
        response = self.client.get(reverse("core:workbench"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-testid="todo-empty"')
        self.assertContains(response, 'lang="zh-hant"')
        self.assertContains(response, "目前沒有待辦事項")

    def test_registered_provider_todos_are_listed(self):
        def provider(user):
            return [Todo(title="Score week 12", url="/x/")] if user == self.team_lead else []

        workbench.register(provider)
        try:
            self.login(self.team_lead)
            self.assertContains(self.client.get(reverse("core:workbench")), "Score week 12")
            self.login(self.agent)
            self.assertNotContains(self.client.get(reverse("core:workbench")), "Score week 12")
        finally:
            workbench.providers.remove(provider)


class WorkbenchQueryCountTests(KefuTestCase):
    """Issue 9: the workbench runs a fixed number of queries, however many agents and to-dos there are."""

    def test_queries_do_not_grow_with_agents_and_todos(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from kefu.people.models import Role
        from kefu.people.testing import make_person

        url = reverse("core:workbench")
        self.login(self.supervisor)  # CS supervisor of CS1: weekly and monthly to-dos of her department

        def get() -> tuple[int, int]:
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get(url)
            self.assertEqual(response.status_code, 200)
            weekly = sum(t.count or 0 for t in response.context["todos"] if "Weekly evaluations" in str(t.title))
            return len(ctx.captured_queries), weekly

        get()
        few, weekly_few = get()
        for i in range(10):
            make_person(f"wb{i}", f"客服{i}", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no=f"CS16{i:02d}")
        many, weekly_many = get()
        self.assertEqual(weekly_many - weekly_few, 2 * 10)  # ten more agents missing last week and this week
        self.assertEqual(few, many)
