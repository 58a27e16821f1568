"""The demo company: 客服示範有限公司, built through the real services.

``build_demo()`` is what ``manage.py seed_demo`` and the browser tests call. It
is idempotent: units are found by code, people by employee number, logins by
user name and role assignments by (user, role, unit), so a second run creates
nothing and only fills in pieces that are missing. Everything is written
through ``kefu.people.services`` (and ``core.services.notify``), so the audit
chain of a demo database is real: HR hires and onboards, the system admin
builds the org tree and assigns the roles.

The people are generated from a fixed seed: the same names, numbers and dates
(relative to the day of the first run) every time.

Every demo login has the password ``KEFU_DEMO_PASSWORD`` (default
``kefu-demo-2026``). One login per role has an easy name (``DEMO_LOGINS``);
everybody else logs in with the lower-case employee number (``cs10012``).
"""

from __future__ import annotations

import datetime
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.core.models import Notification
from kefu.core.services import notify
from kefu.people import services
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

DEFAULT_PASSWORD = "kefu-demo-2026"
SEED = 20260101
EMAIL_DOMAIN = "demo.kefu.example"


def demo_password() -> str:
    return os.environ.get("KEFU_DEMO_PASSWORD") or DEFAULT_PASSWORD


# The one easy login per role, in the order of DESIGN.md's roles table.
DEMO_LOGINS: dict[str, str] = {
    Role.AGENT: "agent",
    Role.TEAM_LEAD: "lead",
    Role.CS_SUPERVISOR: "supervisor",
    Role.DEPT_HEAD: "head",
    Role.ADMIN_STAFF: "clerk",
    Role.HR: "hr",
    Role.LEADERSHIP: "boss",
    Role.INSPECTOR: "inspector",
    Role.SYSADMIN: "sysadmin",
}

COMPANY = ("HQ", "客服示範有限公司")
# (code, name, is_customer_service, [(team code, team name)])
DEPARTMENTS: list[tuple[str, str, bool, list[tuple[str, str]]]] = [
    ("CSD1", "客服一部", True, [("CSD1-T1", "熱線一組"), ("CSD1-T2", "熱線二組"), ("CSD1-T3", "線上客服組")]),
    ("CSD2", "客服二部", True, [("CSD2-T1", "投訴處理組"), ("CSD2-T2", "會員服務組"), ("CSD2-T3", "企業客戶組")]),
    ("ADMIN", "行政部", False, []),
    ("HRD", "人力資源部", False, []),
]

# Common surnames, most common first (drawn with decreasing weight).
SURNAMES = (
    "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董袁潘蔣蔡余杜葉程蘇魏呂丁任沈"
    "姚盧姜崔鍾譚陸汪范金石廖賈夏韋方白鄒孟熊秦邱江尹薛段雷侯龍史陶黎賀顧毛郝龔邵萬錢嚴武戴莫孔向湯"
)
FEMALE_GIVEN = (
    "雅婷 怡君 淑芬 美玲 佳穎 欣怡 婉婷 詩涵 靜怡 心怡 曉雯 慧敏 麗娟 秀英 文靜 雨萱 思穎 佳琪 夢潔 嘉欣 "
    "雪梅 海燕 曉紅 玉蘭 春燕 麗華 婷婷 丹丹 晶晶 子涵 欣妍 語桐 若曦 夢瑤 思雨 曉琳 曉燕 雅琴 秋月 紅梅 "
    "蘭芳 靜雯 瑞雪 依晨 可欣 書瑤 安琪 穎 潔 敏 靜 琳 瑤 悅 倩 芳 燕 萍 莉 璐 佩君 惠如 美華 淑華 小紅 "
    "曉彤 詩琪 嘉怡 樂瑤 雨桐 一諾 沐晴"
).split()
MALE_GIVEN = (
    "志明 建國 俊傑 浩然 文華 國強 子軒 宇航 浩宇 明輝 偉 強 磊 軍 洋 勇 傑 濤 超 鵬 建華 志強 海濤 曉東 "
    "振宇 家豪 承恩 冠宇 博文 天佑 嘉偉 俊豪 一鳴 思遠 立新 光明 永平 德華 子豪 宏偉"
).split()


@dataclass(frozen=True)
class Person:
    employee_no: str
    username: str
    name: str
    gender: str
    unit: str  # org unit code
    position: str
    hire_date: datetime.date
    roles: tuple[tuple[str, str], ...] = ()  # (role, code of the unit it covers)
    status: str = Employee.Status.ACTIVE
    leave_date: datetime.date | None = None
    leave_reason: str = ""
    phone: str = ""

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


class _Names:
    """Unique, realistic full names from a fixed random stream."""

    def __init__(self, rng: random.Random, taken: set[str]):
        self.rng = rng
        self.taken = set(taken)
        n = len(SURNAMES)
        self.weights = [n - i + 10 for i in range(n)]

    def draw(self, gender: str) -> str:
        given = FEMALE_GIVEN if gender == Employee.Gender.FEMALE else MALE_GIVEN
        while True:
            name = self.rng.choices(SURNAMES, weights=self.weights)[0] + self.rng.choice(given)
            if name not in self.taken:
                self.taken.add(name)
                return name


def demo_people(today: datetime.date, *, agents_per_team: int = 10) -> list[Person]:
    """Everybody in the demo company, in a fixed order (the same list for the same ``today``)."""
    rng = random.Random(SEED)
    F, M = Employee.Gender.FEMALE, Employee.Gender.MALE
    named = {
        "agent": ("王小美", F), "lead": ("李建國", M), "supervisor": ("陳淑芬", F), "head": ("張志明", M),
        "clerk": ("劉美玲", F), "hr": ("黃佩君", F), "boss": ("周國強", M), "inspector": ("趙文華", M),
        "sysadmin": ("孫浩然", M),
    }
    names = _Names(rng, {n for n, _g in named.values()})
    counters: Counter[str] = Counter()

    def number(prefix: str) -> str:
        counters[prefix] += 1
        return f"{prefix}{10000 + counters[prefix]}"

    def years_ago(low: float, high: float) -> datetime.date:
        return today - datetime.timedelta(days=rng.randint(int(low * 365), int(high * 365)))

    def phone() -> str:
        return rng.choice(["138", "139", "150", "186", "135", "177"]) + f"{rng.randint(0, 99_999_999):08d}"

    people: list[Person] = []

    def add(prefix: str, login: str | None, unit: str, position: str, hire: datetime.date,
            roles: tuple[tuple[str, str], ...], gender: str | None = None, **extra) -> Person:
        employee_no = number(prefix)
        if login:
            name, gender = named[login]
        else:
            gender = gender or (F if rng.random() < 0.8 else M)
            name = names.draw(gender)
        person = Person(employee_no=employee_no, username=login or employee_no.lower(), name=name, gender=gender,
                        unit=unit, position=position, hire_date=hire, roles=roles, phone=phone(), **extra)
        people.append(person)
        return person

    company = COMPANY[0]
    cs_departments = [d for d in DEPARTMENTS if d[2]]
    # Managers first, so they hold the low numbers.
    for i, (code, _name, _cs, _teams) in enumerate(cs_departments):
        add("CS", "head" if i == 0 else None, code, "客服部經理", years_ago(4, 8), ((Role.DEPT_HEAD, code),),
            gender=M if i == 0 else F)
        roles: tuple[tuple[str, str], ...] = ((Role.CS_SUPERVISOR, code),)
        if i == 1:
            # S1: the supervision group draws on the CS department too.
            roles += ((Role.INSPECTOR, company),)
        add("CS", "supervisor" if i == 0 else None, code, "客服主管", years_ago(3, 6), roles)
    first_team = True
    for _code, _name, _cs, teams in cs_departments:
        for team_code, _team_name in teams:
            add("CS", "lead" if first_team else None, team_code, "班組長", years_ago(2, 5),
                ((Role.TEAM_LEAD, team_code),))
            first_team = False
    first_agent = True
    for _code, _name, _cs, teams in cs_departments:
        for team_code, _team_name in teams:
            for _n in range(agents_per_team):
                hire = years_ago(0.05, 4)
                position = "資深客服專員" if (today - hire).days > 3 * 365 else "客服專員"
                add("CS", "agent" if first_agent else None, team_code, position, hire,
                    ((Role.AGENT, team_code),))
                first_agent = False
    # One who left six weeks ago, and two hires starting soon, still to be onboarded.
    leaver_team = cs_departments[0][3][1][0]
    add("CS", None, leaver_team, "客服專員", years_ago(1.5, 2.5), ((Role.AGENT, leaver_team),),
        status=Employee.Status.LEFT, leave_date=today - datetime.timedelta(days=42), leave_reason="個人原因離職")
    for days, team_code in ((3, cs_departments[0][3][0][0]), (10, cs_departments[1][3][2][0])):
        add("CS", None, team_code, "客服專員", today + datetime.timedelta(days=days), ((Role.AGENT, team_code),),
            status=Employee.Status.PENDING)

    add("AD", "clerk", "ADMIN", "行政專員（制服管理）", years_ago(2, 5), ((Role.ADMIN_STAFF, company),))
    add("AD", None, "ADMIN", "行政專員（採購）", years_ago(1, 4), ((Role.ADMIN_STAFF, company),))
    add("AD", "inspector", "ADMIN", "監督小組專員", years_ago(3, 6), ((Role.INSPECTOR, company),))
    add("AD", "sysadmin", "ADMIN", "系統管理員", years_ago(2, 6), ((Role.SYSADMIN, company),))
    add("HR", "hr", "HRD", "人事專員（績效）", years_ago(2, 6), ((Role.HR, company),))
    add("HR", None, "HRD", "人事專員（薪酬）", years_ago(1, 4), ((Role.HR, company),))
    add("HR", None, "HRD", "監督小組專員", years_ago(2, 5), ((Role.INSPECTOR, company),))
    add("GM", "boss", company, "總經理", years_ago(6, 9), ((Role.LEADERSHIP, company),))
    return people


@dataclass
class DemoReport:
    """What one run of build_demo() created or changed (all zero on a repeat run)."""

    created: Counter[str] = field(default_factory=Counter)
    users: dict[str, Any] = field(default_factory=dict)  # username -> User

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def _first_run_date() -> datetime.date:
    """The dates of a demo company are relative to the day it was first seeded."""
    first = Employee.objects.filter(employee_no="GM10001").values_list("created_at", flat=True).first()
    return timezone.localdate(first) if first else timezone.localdate()


@transaction.atomic
def build_demo(*, password: str | None = None, agents_per_team: int = 10,
               log: Callable[[str], None] | None = None) -> DemoReport:
    """Create (or complete) the demo company. Returns what it created; nothing on a second run."""
    report = DemoReport()
    say = log or (lambda message: None)
    today = _first_run_date()
    people = demo_people(today, agents_per_team=agents_per_team)
    User = get_user_model()

    # One hash for everybody: the demo password is public anyway, and hashing
    # eighty times with the production hasher would take half a minute.
    hashed = make_password(password or demo_password())
    existing_users = {u.username: u for u in User.objects.filter(username__in=[p.username for p in people])}
    for p in people:
        user = existing_users.get(p.username)
        if user is None:
            user = User.objects.create(username=p.username, email=p.email, password=hashed)
            report.created["logins"] += 1
        report.users[p.username] = user
    sysadmin = report.users[DEMO_LOGINS[Role.SYSADMIN]]
    hr = report.users[DEMO_LOGINS[Role.HR]]

    # The default weekly hours come with migration 0002; a flushed test database has none.
    from kefu.core import services as core_services
    from kefu.core.models import WorkingPeriod

    if not WorkingPeriod.objects.exists():
        for weekday in range(5):
            core_services.working_periods_set(actor=sysadmin, weekday=weekday,
                                              ranges=[("09:00", "12:00"), ("13:00", "18:00")],
                                              reason="demo: default working hours")

    units = {u.code: u for u in OrgUnit.objects.all()}

    def unit(code: str, name: str, kind: str, parent: OrgUnit | None, cs: bool = False) -> OrgUnit:
        if code not in units:
            units[code] = services.orgunit_create(actor=sysadmin, code=code, name=name, kind=kind, parent=parent,
                                                  is_customer_service=cs)
            report.created["org units"] += 1
        return units[code]

    company = unit(*COMPANY, OrgUnit.Kind.COMPANY, None)
    for code, name, cs, teams in DEPARTMENTS:
        department = unit(code, name, OrgUnit.Kind.DEPARTMENT, company, cs)
        for team_code, team_name in teams:
            unit(team_code, team_name, OrgUnit.Kind.TEAM, department, cs)

    employees = {e.employee_no: e for e in Employee.objects.filter(employee_no__in=[p.employee_no for p in people])}
    assigned = set(
        RoleAssignment.objects.filter(user__in=list(report.users.values()))
        .values_list("user_id", "role", "org_unit__code")
    )
    for p in people:
        user = report.users[p.username]
        employee = employees.get(p.employee_no)
        if employee is None:
            employee = services.employee_create(
                actor=hr, employee_no=p.employee_no, name=p.name, gender=p.gender, hire_date=p.hire_date,
                org_unit=units[p.unit], position=p.position, email=p.email, phone=p.phone, user=user,
            )
            report.created["employees"] += 1
        for role, scope in p.roles:
            if (user.pk, role, scope) not in assigned:
                services.role_assign(actor=sysadmin, user=user, role=role, org_unit=units[scope],
                                     start_date=p.hire_date)
                assigned.add((user.pk, role, scope))
                report.created["role assignments"] += 1
        if p.status != Employee.Status.PENDING and employee.status == Employee.Status.PENDING:
            employee = services.employee_onboard(actor=hr, employee=employee, on=p.hire_date)
            report.created["onboarded"] += 1
        if p.status == Employee.Status.LEFT and employee.status != Employee.Status.LEFT:
            assert p.leave_date is not None
            services.employee_offboard(actor=hr, employee=employee, leave_date=p.leave_date, reason=p.leave_reason)
            report.created["offboarded"] += 1
        say(f"{p.employee_no} {p.name}")

    report.created["notifications"] += _welcome_notifications(report)
    return report


def _welcome_notifications(report: DemoReport) -> int:
    """A few messages so the demo inboxes are not empty (stored in the company's default language)."""
    wanted = []
    with translation.override(settings.LANGUAGE_CODE):
        for username in DEMO_LOGINS.values():
            wanted.append((username, reverse("core:workbench"), _("Welcome to Kefu"),
                           _("Your workbench lists what is waiting for you: evaluations to score or "
                             "acknowledge, uniform requests and inspections.")))
        agent = DEMO_LOGINS[Role.AGENT]
        wanted.append((agent, reverse("password_change"), _("Please change your password"),
                       _("You are using a shared demo password. Choose your own in the user menu.")))
        wanted.append((agent, reverse("core:notifications"), _("Notifications arrive here"),
                       _("Results, approvals and reminders are also sent to your e-mail address.")))
    have = set(
        Notification.objects.filter(recipient__username__in=DEMO_LOGINS.values())
        .values_list("recipient__username", "url")
    )
    created = 0
    for username, url, title, body in wanted:
        if (username, url) not in have:
            notify(recipients=[report.users[username]], title=title, body=body, url=url, email=False)
            created += 1
    return created
