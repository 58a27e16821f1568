import contextlib
import datetime
import io
import os
import re

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Q
from django.test import RequestFactory, TestCase
from django.utils import timezone, translation

from kefu.core import audit
from kefu.core.models import AuditEntry, Notification
from kefu.people import access
from kefu.people.demo import DEFAULT_PASSWORD, DEMO_LOGINS, build_demo, demo_password, demo_people
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


def counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "units": OrgUnit.objects.count(),
        "employees": Employee.objects.count(),
        "roles": RoleAssignment.objects.count(),
        "notifications": Notification.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@contextlib.contextmanager
def environ(**values: str):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def log_in(username: str, password: str):
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request=request, username=username, password=password)


class SeedDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.report = build_demo()
        cls.today = timezone.localdate()

    def test_first_run_reports_what_it_created(self):
        self.assertTrue(self.report.changed)
        self.assertEqual(self.report.created["org units"], 11)
        self.assertEqual(self.report.created["employees"], Employee.objects.count())

    def test_second_run_changes_nothing(self):
        before = counts()
        again = build_demo()
        self.assertFalse(again.changed, again.created)
        self.assertEqual(counts(), before)

    def test_second_run_puts_back_a_missing_piece(self):
        agent = get_user_model().objects.get(username="agent")
        RoleAssignment.objects.filter(user=agent).delete()
        Notification.objects.filter(recipient=agent).delete()
        again = build_demo()
        self.assertEqual(again.created["role assignments"], 1)
        self.assertEqual(again.created["notifications"], 3)
        self.assertEqual(again.created["employees"], 0)
        self.assertEqual(access.roles_of(agent), {Role.AGENT})

    def test_every_role_has_an_active_assignment_and_a_demo_login(self):
        active = RoleAssignment.objects.filter(start_date__lte=self.today).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=self.today)
        )
        self.assertEqual(set(active.values_list("role", flat=True)), set(Role.values))
        for role, username in DEMO_LOGINS.items():
            user = get_user_model().objects.get(username=username)
            self.assertIn(role, access.roles_of(user), username)
            self.assertEqual(user.employee.status, Employee.Status.ACTIVE)

    def test_demo_logins_authenticate_with_the_demo_password(self):
        password = demo_password()  # KEFU_DEMO_PASSWORD, or the documented default
        for username in DEMO_LOGINS.values():
            self.assertIsNotNone(log_in(username, password), username)
        self.assertIsNotNone(log_in("cs10012", password))
        self.assertIsNone(log_in("agent", password + "x"))

    def test_about_sixty_agents_in_six_teams(self):
        agents = Employee.objects.filter(
            status=Employee.Status.ACTIVE, user__role_assignments__role=Role.AGENT
        ).distinct()
        self.assertTrue(55 <= agents.count() <= 65, agents.count())
        teams = OrgUnit.objects.filter(kind=OrgUnit.Kind.TEAM)
        self.assertEqual(teams.count(), 6)
        self.assertTrue(all(t.is_customer_service for t in teams))
        self.assertEqual(OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT, is_customer_service=True).count(), 2)
        for team in teams:
            self.assertGreaterEqual(agents.filter(org_unit=team).count(), 8, team.name)
            self.assertEqual(RoleAssignment.objects.filter(role=Role.TEAM_LEAD, org_unit=team).count(), 1, team.name)
        names = list(agents.values_list("name", flat=True))
        self.assertEqual(len(names), len(set(names)), "names repeat")
        self.assertTrue(all(CHINESE_NAME.match(n) for n in names), names)
        self.assertTrue(all(re.fullmatch(r"CS1\d{4}", no) for no in agents.values_list("employee_no", flat=True)))
        women = agents.filter(gender=Employee.Gender.FEMALE).count()
        self.assertTrue(0.6 * agents.count() <= women < agents.count(), women)
        hires = sorted(agents.values_list("hire_date", flat=True))
        self.assertGreaterEqual(hires[0], self.today - datetime.timedelta(days=4 * 365 + 1))
        self.assertLessEqual(hires[-1], self.today)
        self.assertGreater((hires[-1] - hires[0]).days, 2 * 365, "hire dates are not spread")

    def test_pending_hires_and_a_leaver(self):
        pending = Employee.objects.filter(status=Employee.Status.PENDING)
        self.assertEqual(pending.count(), 2)
        self.assertTrue(all(e.hire_date > self.today for e in pending))
        left = Employee.objects.get(status=Employee.Status.LEFT)
        self.assertFalse(left.user.is_active)
        self.assertIsNone(log_in(left.user.username, demo_password()))
        self.assertEqual(access.roles_of(left.user), set())
        self.assertTrue(AuditEntry.objects.filter(action="employee.offboard", object_id=str(left.pk)).exists())

    def test_everyone_active_was_onboarded_by_hr_through_the_service(self):
        hr = get_user_model().objects.get(username="hr")
        onboarded = set(
            AuditEntry.objects.filter(action="employee.onboard", actor=hr).values_list("object_id", flat=True)
        )
        not_pending = Employee.objects.exclude(status=Employee.Status.PENDING)
        self.assertEqual(onboarded, {str(pk) for pk in not_pending.values_list("pk", flat=True)})
        sysadmin = get_user_model().objects.get(username="sysadmin")
        self.assertEqual(
            AuditEntry.objects.filter(action="role.assign", actor=sysadmin).count(), RoleAssignment.objects.count()
        )

    def test_inspectors_cover_the_company_and_come_from_admin_cs_and_hr(self):
        inspectors = RoleAssignment.objects.filter(role=Role.INSPECTOR).select_related("org_unit", "user__employee")
        self.assertGreaterEqual(inspectors.count(), 2)
        self.assertTrue(all(a.org_unit.kind == OrgUnit.Kind.COMPANY for a in inspectors))
        homes = {a.user.employee.org_unit for a in inspectors}
        self.assertEqual({u.name for u in homes}, {"行政部", "客服二部", "人力資源部"})

    def test_the_demo_agent_has_unread_notifications(self):
        agent = get_user_model().objects.get(username="agent")
        self.assertGreaterEqual(Notification.objects.filter(recipient=agent, read_at__isnull=True).count(), 2)

    def test_audit_chain_verifies(self):
        result = audit.verify()
        self.assertIsNone(result.broken)
        self.assertEqual(result.reason, "")
        self.assertGreater(result.checked, 200)

    def test_the_roster_is_the_same_every_time(self):
        day = datetime.date(2026, 3, 1)
        self.assertEqual(demo_people(day), demo_people(day))


class SeedDemoCommandTests(TestCase):
    def test_seed_twice_then_print_the_logins(self):
        out = io.StringIO()
        with environ(KEFU_DEMO_PASSWORD="another-demo-pass-9"), translation.override("en"):
            call_command("seed_demo", stdout=out)
            first = out.getvalue()
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            second = out.getvalue()
            out = io.StringIO()
            call_command("demo_logins", stdout=out)
            table = out.getvalue()
        self.assertNotEqual(first, second)
        self.assertIn("already there", second)
        for username in DEMO_LOGINS.values():
            self.assertRegex(table, rf"(?m)\s{username}\s+another-demo-pass-9\s")
        self.assertIn("王小美", table)
        # With the default password the table does not claim it works: it says it was changed.
        out = io.StringIO()
        with environ(KEFU_DEMO_PASSWORD=DEFAULT_PASSWORD), translation.override("en"):
            call_command("demo_logins", stdout=out)
        self.assertRegex(out.getvalue(), r"(?m)\sboss\s+\(changed\)\s")
        self.assertNotIn(DEFAULT_PASSWORD, out.getvalue())
        self.assertIsNotNone(log_in("boss", "another-demo-pass-9"))
        self.assertIsNone(log_in("boss", DEFAULT_PASSWORD))
