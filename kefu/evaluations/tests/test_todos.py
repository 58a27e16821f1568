"""Workbench to-dos: the week's evaluations from Monday, last week's as late; the agent's answers;
the department head's appeals."""

from __future__ import annotations

import datetime

from django.utils import timezone

from kefu.core.registry import workbench
from kefu.evaluations import services, todos
from kefu.evaluations.tests.builders import local_dt, monthly_draft, submitted_weekly
from kefu.people.models import Role
from kefu.people.testing import KefuTestCase, make_person


def iso(day: datetime.date) -> tuple[int, int]:
    c = day.isocalendar()
    return c.year, c.week


class TodoTests(KefuTestCase):
    def setUp(self):
        super().setUp()
        today = timezone.localdate()
        self.this_monday = today - datetime.timedelta(days=today.weekday())
        self.last_monday = self.this_monday - datetime.timedelta(days=7)

    def test_lead_sees_this_week_and_last_week_late(self):
        make_person("a2", "客服二", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no="CS1901")
        items = todos.weekly_to_do(self.team_lead)
        late = [t for t in items if t.late]
        due = [t for t in items if not t.late]
        self.assertEqual([t.count for t in late], [2])  # both agents of her team, nothing done last week
        self.assertEqual([t.count for t in due], [2])
        self.assertEqual(due[0].due, self.this_monday + datetime.timedelta(days=6))
        # done last week for one agent; a draft does not count as done
        submitted_weekly(self.team_lead, self.agent.employee, *iso(self.last_monday))
        services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent.employee,
                                         iso_year=iso(self.this_monday)[0], iso_week=iso(self.this_monday)[1])
        items = todos.weekly_to_do(self.team_lead)
        self.assertEqual([t.count for t in items if t.late], [1])
        self.assertEqual([t.count for t in items if not t.late], [2])

    def test_supervisor_covers_the_department_not_herself(self):
        items = todos.weekly_to_do(self.supervisor)
        # CS1 agents: 王小美 (T1) and 林雅婷 (T2); the lead, the head and the supervisor are not agents
        self.assertEqual([t.count for t in items if not t.late], [2])
        self.assertEqual(todos.weekly_to_do(self.agent), [])
        self.assertEqual(todos.weekly_to_do(self.hr), [])

    def test_agent_and_head(self):
        ev = submitted_weekly(self.team_lead, self.agent.employee, 2026, 10)
        monthly = monthly_draft(self.agent.employee, 2026, 3, supervisor=self.supervisor.employee)
        services.monthly_submit(actor=self.supervisor, evaluation=monthly, now=local_dt(2026, 4, 2))
        items = todos.agent_to_do(self.agent)
        self.assertEqual(len(items), 2)
        self.assertTrue(any(str(ev.pk) in t.url for t in items))
        monthly_todo = next(t for t in items if "monthly" in t.url)
        self.assertEqual(monthly_todo.due, datetime.date(2026, 4, 10))
        self.assertTrue(monthly_todo.late)  # that window closed long ago (today is after April 2026)
        self.assertEqual(todos.appeals_to_decide(self.dept_head), [])
        type(monthly).objects.filter(pk=monthly.pk).update(appeal_deadline=timezone.now() + datetime.timedelta(days=3))
        services.monthly_appeal(actor=self.agent, evaluation=monthly, reason="x")
        self.assertEqual([t.count for t in todos.appeals_to_decide(self.dept_head)], [1])
        self.assertEqual(todos.appeals_to_decide(self.outsider), [])

    def test_registered_on_the_workbench(self):
        self.assertIn(todos.weekly_to_do, workbench.providers)
        self.assertIn(todos.agent_to_do, workbench.providers)
        self.assertIn(todos.appeals_to_decide, workbench.providers)
