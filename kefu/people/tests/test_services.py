"""People services: org units, employees, onboarding/offboarding steps, role assignments."""

import datetime

from django.core.exceptions import ValidationError

from kefu.core.models import AuditEntry
from kefu.people import access as people_access
from kefu.people import services
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment
from kefu.people.testing import KefuTestCase

D = datetime.date


def new_hire(actor, unit, no="N0001", **extra):
    data = {"employee_no": no, "name": "新人", "gender": "F", "hire_date": D(2024, 5, 6), "org_unit": unit} | extra
    return services.employee_create(actor=actor, **data)


class EmployeeServiceTests(KefuTestCase):
    def test_create_is_pending_and_audited(self):
        employee = new_hire(self.hr, self.cs1_t1)
        self.assertEqual(employee.status, Employee.Status.PENDING)
        entry = AuditEntry.objects.get(action="employee.create", object_id=str(employee.pk))
        self.assertEqual(entry.actor, self.hr)
        self.assertEqual(entry.changes["employee_no"], [None, "N0001"])

    def test_create_rejects_inactive_unit(self):
        empty = services.orgunit_create(actor=self.hr, code="EMPTY", name="空組", kind=OrgUnit.Kind.TEAM, parent=self.cs2)
        services.orgunit_update(actor=self.hr, unit=empty, active=False)
        with self.assertRaises(ValidationError) as caught:
            new_hire(self.hr, OrgUnit.objects.get(pk=empty.pk))
        self.assertIn("org_unit", caught.exception.message_dict)

    def test_a_leaver_in_a_closed_unit_can_still_be_corrected(self):
        leaver = Employee.objects.get(user=self.other_agent)
        services.employee_offboard(actor=self.hr, employee=leaver, leave_date=D(2024, 2, 1))
        services.orgunit_update(actor=self.hr, unit=self.cs2_t1, active=False)
        services.employee_update(actor=self.hr, employee=leaver, phone="13900000000")
        self.assertEqual(Employee.objects.get(pk=leaver.pk).phone, "13900000000")
        with self.assertRaises(ValidationError) as caught:  # but nobody moves into it
            services.employee_update(actor=self.hr, employee=Employee.objects.get(user=self.agent),
                                     org_unit=OrgUnit.objects.get(pk=self.cs2_t1.pk))
        self.assertIn("org_unit", caught.exception.message_dict)

    def test_update_records_only_changes(self):
        employee = Employee.objects.get(user=self.agent)
        services.employee_update(actor=self.hr, employee=employee, position="資深客服", reason="promotion")
        entry = AuditEntry.objects.get(action="employee.update", object_id=str(employee.pk))
        self.assertEqual(entry.changes, {"position": ["", "資深客服"]})
        self.assertEqual(entry.reason, "promotion")
        services.employee_update(actor=self.hr, employee=employee, position="資深客服")
        self.assertEqual(AuditEntry.objects.filter(action="employee.update").count(), 1)

    def test_update_cannot_touch_status(self):
        employee = Employee.objects.get(user=self.agent)
        with self.assertRaises(ValueError):
            services.employee_update(actor=self.hr, employee=employee, status=Employee.Status.LEFT)


class OnboardingTests(KefuTestCase):
    def setUp(self):
        self.calls = []

    def tearDown(self):
        services.onboarding_steps.unregister("test.step")
        services.offboarding_steps.unregister("test.step")

    def test_onboard_runs_steps(self):
        employee = new_hire(self.hr, self.cs1_t1)
        services.onboarding_steps.register(
            "test.step", lambda *, employee, actor, on: self.calls.append((employee.pk, actor, on))
        )
        services.employee_onboard(actor=self.hr, employee=employee, on=D(2024, 5, 6))
        employee.refresh_from_db()
        self.assertEqual(employee.status, Employee.Status.ACTIVE)
        self.assertEqual(self.calls, [(employee.pk, self.hr, D(2024, 5, 6))])
        entry = AuditEntry.objects.get(action="employee.onboard")
        self.assertEqual(entry.changes["status"], ["pending", "active"])
        # Other apps' steps (e.g. uniforms.entitlement) run too; this test's step is among them.
        self.assertIn("test.step", entry.changes["steps"][1])

    def test_failing_step_rolls_everything_back(self):
        employee = new_hire(self.hr, self.cs1_t1)

        def fail(*, employee, actor, on):
            raise ValidationError("no uniforms in stock")

        services.onboarding_steps.register("test.step", fail)
        with self.assertRaises(ValidationError):
            services.employee_onboard(actor=self.hr, employee=employee)
        employee.refresh_from_db()
        self.assertEqual(employee.status, Employee.Status.PENDING)
        self.assertFalse(AuditEntry.objects.filter(action="employee.onboard").exists())

    def test_only_pending_can_be_onboarded(self):
        with self.assertRaises(ValidationError):
            services.employee_onboard(actor=self.hr, employee=Employee.objects.get(user=self.agent))

    def test_offboard_ends_roles_disables_login_and_runs_steps(self):
        employee = Employee.objects.get(user=self.team_lead)
        later = RoleAssignment.objects.create(user=self.team_lead, role=Role.CS_SUPERVISOR, org_unit=self.cs1,
                                              start_date=D(2024, 1, 1), end_date=D(2030, 1, 1))
        services.offboarding_steps.register("test.step", lambda *, employee, actor, on: self.calls.append(on))
        services.employee_offboard(actor=self.hr, employee=employee, leave_date=D(2024, 6, 30), reason="resigned")
        employee.refresh_from_db()
        self.team_lead.refresh_from_db()
        self.assertEqual(employee.status, Employee.Status.LEFT)
        self.assertEqual(employee.leave_date, D(2024, 6, 30))
        self.assertFalse(self.team_lead.is_active)
        self.assertEqual(set(RoleAssignment.objects.filter(user=self.team_lead).values_list("end_date", flat=True)),
                         {D(2024, 6, 30)})
        later.refresh_from_db()
        self.assertEqual(later.end_date, D(2024, 6, 30))
        self.assertEqual(self.calls, [D(2024, 6, 30)])
        self.assertEqual(people_access.roles_of(self.team_lead, on=D(2024, 7, 1)), set())

    def test_failing_offboarding_step_leaves_her_employed(self):
        employee = Employee.objects.get(user=self.team_lead)

        def fail(*, employee, actor, on):
            raise ValidationError("uniforms not returned")

        services.offboarding_steps.register("test.step", fail)
        with self.assertRaises(ValidationError):
            services.employee_offboard(actor=self.hr, employee=employee, leave_date=D(2024, 6, 30))
        employee.refresh_from_db()
        self.team_lead.refresh_from_db()
        self.assertEqual(employee.status, Employee.Status.ACTIVE)
        self.assertIsNone(employee.leave_date)
        self.assertTrue(self.team_lead.is_active)
        self.assertTrue(RoleAssignment.objects.filter(user=self.team_lead, end_date__isnull=True).exists())

    def test_offboard_before_hire_and_twice(self):
        employee = Employee.objects.get(user=self.agent)
        with self.assertRaises(ValidationError) as caught:
            services.employee_offboard(actor=self.hr, employee=employee, leave_date=D(2023, 2, 28))
        self.assertIn("leave_date", caught.exception.message_dict)
        services.employee_offboard(actor=self.hr, employee=employee, leave_date=D(2024, 1, 31))
        with self.assertRaises(ValidationError):
            services.employee_offboard(actor=self.hr, employee=employee, leave_date=D(2024, 2, 1))


class OrgUnitServiceTests(KefuTestCase):
    def test_create_sets_path(self):
        unit = services.orgunit_create(actor=self.hr, code="CS1-T3", name="一部三組", kind=OrgUnit.Kind.TEAM,
                                       parent=self.cs1)
        self.assertEqual(unit.path, f"/{self.company.pk}/{self.cs1.pk}/{unit.pk}/")
        self.assertTrue(AuditEntry.objects.filter(action="orgunit.create", object_id=str(unit.pk)).exists())

    def test_illegal_parent_kinds(self):
        cases = [
            (OrgUnit.Kind.TEAM, self.company),  # a team sits under a department
            (OrgUnit.Kind.DEPARTMENT, self.cs1_t1),
            (OrgUnit.Kind.COMPANY, self.cs1),
        ]
        for i, (kind, parent) in enumerate(cases):
            with self.subTest(kind=kind), self.assertRaises(ValidationError) as caught:
                services.orgunit_create(actor=self.hr, code=f"X{i}", name="x", kind=kind, parent=parent)
            self.assertIn("parent", caught.exception.message_dict)
        with self.assertRaises(ValidationError):
            services.orgunit_update(actor=self.hr, unit=self.cs1_t1, parent=self.cs2_t1)
        self.assertFalse(OrgUnit.objects.filter(code__startswith="X").exists())

    def test_move_repaths_the_subtree_and_scope_follows(self):
        centre = services.orgunit_create(actor=self.hr, code="CC", name="客服中心", kind=OrgUnit.Kind.DEPARTMENT,
                                         parent=self.company)
        services.orgunit_update(actor=self.hr, unit=self.cs1, parent=centre, reason="reorganisation")
        paths = dict(OrgUnit.objects.values_list("code", "path"))
        base = f"/{self.company.pk}/{centre.pk}/{self.cs1.pk}/"
        self.assertEqual(paths["CS1"], base)
        self.assertEqual(paths["CS1-T1"], f"{base}{self.cs1_t1.pk}/")
        self.assertEqual(paths["CS1-T2"], f"{base}{self.cs1_t2.pk}/")
        self.assertEqual(paths["CS2-T1"], f"/{self.company.pk}/{self.cs2.pk}/{self.cs2_t1.pk}/")  # untouched
        # Someone covering the new centre now sees CS1's agents.
        RoleAssignment.objects.create(user=self.outsider, role=Role.CS_SUPERVISOR, org_unit=centre,
                                      start_date=D(2024, 1, 1))
        visible = set(people_access.employees_visible(self.outsider, Employee.objects.all())
                      .values_list("employee_no", flat=True))
        self.assertIn("CS1001", visible)
        self.assertIn("CS2002", visible)

    def test_cannot_move_under_itself_or_its_subtree(self):
        sub = services.orgunit_create(actor=self.hr, code="SUB", name="子部門", kind=OrgUnit.Kind.DEPARTMENT,
                                      parent=self.cs1)
        for parent in (self.cs1, sub):
            with self.assertRaises(ValidationError):
                services.orgunit_update(actor=self.hr, unit=self.cs1, parent=parent)
        self.cs1.refresh_from_db()
        self.assertEqual(self.cs1.parent_id, self.company.pk)

    def test_kind_change_must_suit_children(self):
        with self.assertRaises(ValidationError) as caught:
            services.orgunit_update(actor=self.hr, unit=self.cs1, kind=OrgUnit.Kind.TEAM)
        self.assertTrue({"kind", "parent"} & set(caught.exception.message_dict))

    def test_deactivate_only_when_empty(self):
        with self.assertRaises(ValidationError) as caught:
            services.orgunit_update(actor=self.hr, unit=self.cs1_t2, active=False)
        self.assertIn("1", caught.exception.messages[0])  # 林雅婷 still works there
        with self.assertRaises(ValidationError):
            services.orgunit_update(actor=self.hr, unit=self.cs2, active=False)  # has an active team
        empty = services.orgunit_create(actor=self.hr, code="EMPTY", name="空組", kind=OrgUnit.Kind.TEAM,
                                        parent=self.cs2)
        services.orgunit_update(actor=self.hr, unit=empty, active=False)
        self.assertFalse(OrgUnit.objects.get(pk=empty.pk).active)
        # A unit whose last employee left can close too.
        services.employee_offboard(actor=self.hr, employee=Employee.objects.get(user=self.teammate_other_team),
                                   leave_date=D(2024, 3, 1))
        services.orgunit_update(actor=self.hr, unit=self.cs1_t2, active=False)


class RoleServiceTests(KefuTestCase):
    def test_assign_and_end(self):
        assignment = services.role_assign(actor=self.sysadmin, user=self.agent, role=Role.TEAM_LEAD,
                                          org_unit=self.cs1_t1, start_date=D(2024, 3, 1))
        self.assertEqual(people_access.roles_of(self.agent, on=D(2024, 3, 2)), {Role.AGENT, Role.TEAM_LEAD})
        services.role_end(actor=self.sysadmin, assignment=assignment, end_date=D(2024, 3, 31), reason="cover ended")
        self.assertEqual(people_access.roles_of(self.agent, on=D(2024, 4, 1)), {Role.AGENT})
        self.assertEqual(AuditEntry.objects.filter(object_type="people.roleassignment").count(), 2)

    def test_end_before_start_names_the_field(self):
        assignment = services.role_assign(actor=self.sysadmin, user=self.agent, role=Role.TEAM_LEAD,
                                          org_unit=self.cs1_t1, start_date=D(2024, 3, 1))
        with self.assertRaises(ValidationError) as caught:
            services.role_end(actor=self.sysadmin, assignment=assignment, end_date=D(2024, 2, 1))
        self.assertIn("end_date", caught.exception.message_dict)
        with self.assertRaises(ValidationError) as caught:
            services.role_assign(actor=self.sysadmin, user=self.agent, role=Role.HR, org_unit=self.company,
                                 start_date=D(2024, 3, 1), end_date=D(2024, 1, 1))
        self.assertIn("end_date", caught.exception.message_dict)
