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
