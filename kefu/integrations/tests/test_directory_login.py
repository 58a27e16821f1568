"""Directory login against a real OpenLDAP server (slapd) started on loopback for this module.

Skipped only when slapd / ldap-utils are missing: `make ldap-deps` installs them (`make test` does).
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from kefu.core.models import AuditEntry
from kefu.integrations.ldap_settings import BACKEND, ldap_settings, parse_role_map
from kefu.integrations.models import DirectoryRoleGrant
from kefu.integrations.tests.slapd import AVAILABLE, SKIP_REASON, SUFFIX, Slapd
from kefu.people.access import roles_of
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import PASSWORD, KefuTestCase

HR_GROUP = f"cn=kefu-hr,ou=groups,{SUFFIX}"
INSPECTORS_GROUP = f"cn=kefu-inspectors,ou=groups,{SUFFIX}"
UNMAPPED_GROUP = f"cn=canteen,ou=groups,{SUFFIX}"

LDIF = f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=dora,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: dora
cn: Dora Deng
sn: Deng
givenName: Dora
mail: dora@example.com
employeeNumber: HR0009
userPassword: dora-pass

dn: uid=eve,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: eve
cn: Eve Ye
sn: Ye
mail: eve@corp.example.com
employeeNumber: XX9999
userPassword: eve-pass

dn: uid=agent,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: agent
cn: Same name as a local account
sn: Agent
userPassword: directory-pass

dn: {HR_GROUP}
objectClass: groupOfNames
cn: kefu-hr
member: uid=dora,ou=people,{SUFFIX}

dn: {INSPECTORS_GROUP}
objectClass: groupOfNames
cn: kefu-inspectors
member: uid=dora,ou=people,{SUFFIX}

dn: {UNMAPPED_GROUP}
objectClass: groupOfNames
cn: canteen
member: uid=eve,ou=people,{SUFFIX}
"""


def directory_settings(uri: str, **extra: str) -> dict:
    env = {
        "KEFU_LDAP_URI": uri,
        "KEFU_LDAP_USER_SEARCH_BASE": f"ou=people,{SUFFIX}",
        "KEFU_LDAP_GROUP_SEARCH_BASE": f"ou=groups,{SUFFIX}",
        "KEFU_LDAP_ROLE_MAP": json.dumps({
            HR_GROUP: ["hr", "HRD"],
            # Group DNs match case-insensitively (directories differ in case).
            INSPECTORS_GROUP.upper(): [["inspector", "CO"]],
        }),
        "KEFU_LDAP_TIMEOUT_SECONDS": "2",
        **extra,
    }
    values = ldap_settings(env)
    values["AUTHENTICATION_BACKENDS"] = [
        "axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend", BACKEND,
    ]
    return values


@pytest.mark.skipif(not AVAILABLE, reason=SKIP_REASON)
class DirectoryLoginTests(KefuTestCase):
    slapd: Slapd

    @classmethod
    def setUpClass(cls) -> None:
        cls.slapd = Slapd().start()
        cls.slapd.add(LDIF)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.slapd.cleanup()

    def setUp(self) -> None:
        super().setUp()
        self.dora_employee = Employee.objects.create(
            employee_no="HR0009", name="鄧朵拉", gender="F", hire_date=datetime.date(2024, 1, 2),
            status=Employee.Status.ACTIVE, org_unit=self.hr_dept)
        override = override_settings(**directory_settings(self.slapd.uri))
        override.enable()
        self.addCleanup(override.disable)

    def login_form(self, username: str, password: str):
        return self.client.post("/accounts/login/", {"username": username, "password": password})

    def test_directory_login_links_the_employee_and_grants_the_mapped_roles(self):
        response = self.login_form("dora", "dora-pass")
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        user = get_user_model().objects.get(username="dora")
        self.assertFalse(user.has_usable_password())
        self.assertEqual(user.email, "dora@example.com")
        self.dora_employee.refresh_from_db()
        self.assertEqual(self.dora_employee.user_id, user.pk)
        self.assertEqual(roles_of(user), {Role.HR, Role.INSPECTOR})
        hr = RoleAssignment.objects.get(user=user, role=Role.HR)
        self.assertEqual(hr.org_unit, self.hr_dept)
        self.assertEqual(hr.start_date, timezone.localdate())
        self.assertEqual(DirectoryRoleGrant.objects.get(assignment=hr).group_dn, HR_GROUP)
        self.assertEqual(RoleAssignment.objects.get(user=user, role=Role.INSPECTOR).org_unit, self.company)
        self.assertTrue(AuditEntry.objects.filter(action="role.assign", reason__contains=HR_GROUP).exists())
        self.assertTrue(AuditEntry.objects.filter(action="employee.link_login").exists())
        # A second login changes nothing: no duplicate grants.
        self.client.logout()
        self.login_form("dora", "dora-pass")
        self.assertEqual(RoleAssignment.objects.filter(user=user).count(), 2)

    def test_leaving_a_group_ends_only_the_directory_role_never_a_local_one(self):
        self.login_form("dora", "dora-pass")
        user = get_user_model().objects.get(username="dora")
        # Granted last week (moved back in time), plus a role HR gave her in Kefu by hand.
        week_ago = timezone.localdate() - datetime.timedelta(days=7)
        RoleAssignment.objects.filter(user=user).update(start_date=week_ago)
        local = RoleAssignment.objects.create(user=user, role=Role.AGENT, org_unit=self.cs1_t1, start_date=week_ago)
        import ldap

        conn = ldap.initialize(self.slapd.uri)
        conn.simple_bind_s(f"cn=admin,{SUFFIX}", "admin-secret")
        conn.modify_s(INSPECTORS_GROUP, [(ldap.MOD_REPLACE, "member", [b"uid=eve,ou=people," + SUFFIX.encode()])])
        self.addCleanup(conn.modify_s, INSPECTORS_GROUP,
                        [(ldap.MOD_REPLACE, "member", [b"uid=dora,ou=people," + SUFFIX.encode()])])
        self.client.logout()
        self.login_form("dora", "dora-pass")
        inspector = RoleAssignment.objects.get(user=user, role=Role.INSPECTOR)
        self.assertEqual(inspector.end_date, timezone.localdate() - datetime.timedelta(days=1))
        self.assertIsNone(RoleAssignment.objects.get(user=user, role=Role.HR).end_date)
        local.refresh_from_db()
        self.assertIsNone(local.end_date)
        user = get_user_model().objects.get(pk=user.pk)
        self.assertEqual(roles_of(user), {Role.HR, Role.AGENT})
        self.assertTrue(AuditEntry.objects.filter(action="role.end", reason__contains=INSPECTORS_GROUP).exists())

    def test_a_role_already_granted_locally_is_not_duplicated_nor_ended(self):
        user = get_user_model().objects.create_user(username="dora")  # no password: a directory login
        user.set_unusable_password()
        user.save()
        local = RoleAssignment.objects.create(user=user, role=Role.HR, org_unit=self.hr_dept,
                                              start_date=datetime.date(2024, 1, 2))
        self.login_form("dora", "dora-pass")
        self.assertEqual(RoleAssignment.objects.filter(user=user, role=Role.HR).count(), 1)
        self.assertFalse(DirectoryRoleGrant.objects.filter(assignment=local).exists())
        self.assertEqual(roles_of(user), {Role.HR, Role.INSPECTOR})

    def test_wrong_password_is_refused(self):
        response = self.login_form("dora", "not-her-password")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The user name or password is wrong")
        self.assertFalse(get_user_model().objects.filter(username="dora").exists())
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_a_user_in_no_mapped_group_logs_in_with_no_roles(self):
        response = self.login_form("eve", "eve-pass")
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        user = get_user_model().objects.get(username="eve")
        self.assertEqual(roles_of(user), set())
        self.assertFalse(RoleAssignment.objects.filter(user=user).exists())
        self.assertFalse(Employee.objects.filter(user=user).exists())  # XX9999 is nobody here

    def test_employee_found_by_e_mail_when_configured(self):
        Employee.objects.create(employee_no="CS1099", name="葉伊芙", gender="F", hire_date=datetime.date(2024, 1, 2),
                                status=Employee.Status.ACTIVE, org_unit=self.cs1_t1, email="EVE@corp.example.com")
        with override_settings(**directory_settings(self.slapd.uri, KEFU_LDAP_EMPLOYEE_MATCH="email")):
            self.login_form("eve", "eve-pass")
        self.assertEqual(Employee.objects.get(employee_no="CS1099").user.username, "eve")

    def test_local_accounts_still_log_in_beside_the_directory(self):
        response = self.login_form("hr", PASSWORD)
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.hr.pk)

    def test_a_directory_entry_cannot_take_over_a_local_account_of_the_same_name(self):
        response = self.login_form("agent", "directory-pass")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_directory_down_local_accounts_work_and_the_message_says_so(self):
        from kefu.integrations.tests.slapd import free_port

        with override_settings(**directory_settings(f"ldap://127.0.0.1:{free_port()}")):
            response = self.login_form("dora", "dora-pass")
            self.assertEqual(response.status_code, 200)
            # Shown on the login page itself, beside the form's own error.
            self.assertContains(response, "The company directory cannot be reached right now")
            self.assertContains(response, "Local Kefu accounts still can")
            self.assertNotIn("_auth_user_id", self.client.session)
            response = self.login_form("sysadmin", PASSWORD)
            self.assertRedirects(response, "/", fetch_redirect_response=False)


class DirectorySettingsTests(KefuTestCase):
    def test_without_kefu_ldap_uri_there_is_no_directory_backend(self):
        from django.conf import settings

        self.assertNotIn(BACKEND, settings.AUTHENTICATION_BACKENDS)
        self.assertIn("django.contrib.auth.backends.ModelBackend", settings.AUTHENTICATION_BACKENDS)

    def test_role_map_forms(self):
        self.assertEqual(parse_role_map('{"CN=A,DC=x": ["hr", "HRD"], "cn=b,dc=x": [["agent", "T1"], ["hr", "CO"]]}'),
                         {"cn=a,dc=x": [("hr", "HRD")], "cn=b,dc=x": [("agent", "T1"), ("hr", "CO")]})
        with self.assertRaises(ValueError):
            parse_role_map('{"cn=a": ["chief", "HRD"]}')
        with self.assertRaises(ValueError):
            parse_role_map('{"cn=a": "hr"}')
