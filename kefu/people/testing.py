"""Named people for tests (DESIGN.md, style: a base test case with named people).

    class EmployeePageTests(KefuTestCase):
        def test_agent_sees_only_herself(self):
            self.client.force_login(self.agent)

The company: 客服一部 (CS1, teams CS1-T1 and CS1-T2), 客服二部 (CS2, team
CS2-T1), 行政部 and 人力資源部. The agent 王小美 works in CS1-T1; her team
lead, supervisor and department head cover CS1-T1 / CS1 / CS1. The admin
clerk, HR, the inspector, leadership and the system admin cover the whole
company. The outsider is CS2's supervisor; ``other_agent`` works in CS2 and
``teammate_other_team`` in CS1-T2 (outside the team lead's team).
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.test import TestCase

from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

PASSWORD = "kefu-test-pass-1"
START = datetime.date(2024, 1, 1)


def make_unit(code: str, name: str, kind: str, parent: OrgUnit | None = None, *, cs: bool = False) -> OrgUnit:
    unit = OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent, is_customer_service=cs)
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


def make_person(username: str, name: str, unit: OrgUnit, *roles: tuple[str, OrgUnit], employee_no: str,
                gender: str = "F", position: str = ""):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com")
    Employee.objects.create(
        employee_no=employee_no, name=name, gender=gender, hire_date=datetime.date(2023, 3, 1),
        status=Employee.Status.ACTIVE, org_unit=unit, position=position, user=user,
        email=f"{username}@example.com",
    )
    for role, scope in roles:
        RoleAssignment.objects.create(user=user, role=role, org_unit=scope, start_date=START)
    return user


def ensure_working_hours() -> None:
    """The default weekly hours of migration 0002; a flushed (live-server) test database has none."""
    from kefu.core.models import WorkingPeriod

    if not WorkingPeriod.objects.exists():
        WorkingPeriod.objects.bulk_create(
            [WorkingPeriod(weekday=d, start=datetime.time(s), end=datetime.time(e))
             for d in range(5) for s, e in ((9, 12), (13, 18))]
        )
        from kefu.core import calendar

        calendar.invalidate()


def build_company() -> SimpleNamespace:
    ensure_working_hours()
    c = SimpleNamespace()
    c.company = make_unit("CO", "客服示範公司", OrgUnit.Kind.COMPANY)
    c.cs1 = make_unit("CS1", "客服一部", OrgUnit.Kind.DEPARTMENT, c.company, cs=True)
    c.cs1_t1 = make_unit("CS1-T1", "一部一組", OrgUnit.Kind.TEAM, c.cs1, cs=True)
    c.cs1_t2 = make_unit("CS1-T2", "一部二組", OrgUnit.Kind.TEAM, c.cs1, cs=True)
    c.cs2 = make_unit("CS2", "客服二部", OrgUnit.Kind.DEPARTMENT, c.company, cs=True)
    c.cs2_t1 = make_unit("CS2-T1", "二部一組", OrgUnit.Kind.TEAM, c.cs2, cs=True)
    c.admin_dept = make_unit("ADM", "行政部", OrgUnit.Kind.DEPARTMENT, c.company)
    c.hr_dept = make_unit("HRD", "人力資源部", OrgUnit.Kind.DEPARTMENT, c.company)

    c.agent = make_person("agent", "王小美", c.cs1_t1, (Role.AGENT, c.cs1_t1), employee_no="CS1001")
    c.team_lead = make_person("lead", "李建國", c.cs1_t1, (Role.TEAM_LEAD, c.cs1_t1), employee_no="CS1002", gender="M")
    c.supervisor = make_person("supervisor", "陳淑芬", c.cs1, (Role.CS_SUPERVISOR, c.cs1), employee_no="CS1003")
    c.dept_head = make_person("head", "張志明", c.cs1, (Role.DEPT_HEAD, c.cs1), employee_no="CS1004", gender="M")
    c.teammate_other_team = make_person("agent2", "林雅婷", c.cs1_t2, (Role.AGENT, c.cs1_t2), employee_no="CS1005")
    c.admin_clerk = make_person("clerk", "劉美玲", c.admin_dept, (Role.ADMIN_STAFF, c.company), employee_no="AD0001")
    c.hr = make_person("hr", "黃佩君", c.hr_dept, (Role.HR, c.company), employee_no="HR0001")
    c.inspector = make_person("inspector", "趙文華", c.admin_dept, (Role.INSPECTOR, c.company), employee_no="AD0002", gender="M")
    c.leadership = make_person("boss", "周國強", c.company, (Role.LEADERSHIP, c.company), employee_no="CO0001", gender="M")
    c.sysadmin = make_person("sysadmin", "孫浩然", c.admin_dept, (Role.SYSADMIN, c.company), employee_no="AD0003", gender="M")
    c.outsider = make_person("outsider", "吳俊傑", c.cs2, (Role.CS_SUPERVISOR, c.cs2), employee_no="CS2001", gender="M")
    c.other_agent = make_person("agent3", "鄭惠如", c.cs2_t1, (Role.AGENT, c.cs2_t1), employee_no="CS2002")
    return c


class KefuTestCase(TestCase):
    """A TestCase with the named company on ``self``: self.agent, self.team_lead, self.cs1, …"""

    @classmethod
    def setUpTestData(cls) -> None:
        for key, value in vars(build_company()).items():
            setattr(cls, key, value)

    def login(self, user) -> None:
        self.client.force_login(user)

    def assertStatus(self, user, method: str, url: str, expected: int, data=None) -> None:
        """Log in as ``user`` (None: anonymous) and check the answer's status code."""
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        response = getattr(self.client, method)(url, data or {})
        self.assertEqual(
            response.status_code, expected,
            f"{method.upper()} {url} as {getattr(user, 'username', 'anonymous')}: "
            f"expected {expected}, got {response.status_code}",
        )
