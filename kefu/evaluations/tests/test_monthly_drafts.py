"""Monthly drafts after a month ends (policy E2.2): who gets one, the suggestions and facts,
the missing-week warning, idempotency, and the supervisor's edits."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from kefu.core.audit import entries_for
from kefu.core.models import Notification
from kefu.evaluations import services
from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.tests.monthly_data import AFTER_MARCH, MONTH, YEAR, build_march, draft_of, weekly
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import KefuTestCase, make_person

D = Decimal


class DraftTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        # Hired on Wednesday 18 March (week W12): W10 and W11 were before her time.
        cls.newcomer = make_person("newbie", "何小雨", cls.cs1_t1, (Role.AGENT, cls.cs1_t1), employee_no="CS1009")
        Employee.objects.filter(user=cls.newcomer).update(hire_date=datetime.date(2026, 3, 18))
        RoleAssignment.objects.filter(user=cls.newcomer).update(start_date=datetime.date(2026, 3, 18))
        # Left in February: no draft for March.
        cls.leaver = make_person("gone", "馬文", cls.cs1_t1, (Role.AGENT, cls.cs1_t1), employee_no="CS1010")
        Employee.objects.filter(user=cls.leaver).update(leave_date=datetime.date(2026, 2, 20),
                                                        status=Employee.Status.LEFT)
        RoleAssignment.objects.filter(user=cls.leaver).update(end_date=datetime.date(2026, 2, 20))

    def make(self, **kwargs):
        return services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH, **kwargs)

    def test_every_cs_agent_of_the_month_gets_one_draft_for_her_supervisor(self):
        run = self.make()
        agents = set(MonthlyEvaluation.objects.filter(year=YEAR, month=MONTH).values_list("agent__employee_no",
                                                                                           flat=True))
        # 王小美, 林雅婷 (CS1-T2), 鄭惠如 (CS2), the newcomer; not the leaver, not leads or supervisors.
        assert agents == {"CS1001", "CS1005", "CS2002", "CS1009"}
        assert (run.created, run.existing, run.agents) == (4, 0, 4)
        assert draft_of(self.agent.employee).supervisor == self.supervisor.employee
        assert draft_of(self.other_agent.employee).supervisor == self.outsider.employee
        assert all(ev.status == MonthlyEvaluation.Status.DRAFT for ev in MonthlyEvaluation.objects.all())

    def test_suggestions_from_the_weekly_scores_and_the_sla_rates(self):
        self.make()
        ev = draft_of(self.agent.employee)
        # attitude (80 + 90) / 2 = 85 % × 30 = 25.5; ability 75 % × 30 = 22.5;
        # efficiency (60 × 50 + 70 × 50) / 100 = 65 % × 20 = 13.0; teamwork: none.
        assert ev.attitude_suggested == D("25.50")
        assert ev.ability_suggested == D("22.50")
        assert ev.efficiency_suggested == D("13.00")
        assert ev.teamwork_suggested is None
        # Pre-filled with the suggestion; no total until teamwork is entered.
        assert (ev.attitude, ev.ability, ev.efficiency, ev.teamwork) == (D("25.5"), D("22.5"), D("13"), None)
        assert ev.total is None
        facts = ev.facts
        assert facts["weekly_means"] == {"attitude": "85.00", "ability": "75.00", "efficiency": "60.00"}
        assert facts["sla"]["first_reply"] == {"met": 7, "breached": 3, "overdue": 0, "rate_pct": "70.00"}
        assert facts["sla"]["rate_pct"] == "70.00"
        assert facts["complaints"] == 1 and facts["handled"] == 10
        assert facts["satisfaction"] == {"answers": 2, "mean_rating": 4.0, "share_4_5_pct": 50.0}
        assert facts["rules"]["weights"]["attitude"] == "30"

    def test_missing_weeks_are_listed(self):
        self.make()
        # W12 has nothing, W13 only a draft.
        assert draft_of(self.agent.employee).facts["missing_weeks"] == ["2026-W12", "2026-W13"]
        assert [w["week"] for w in draft_of(self.agent.employee).facts["weeks"]] == [
            "2026-W10", "2026-W11", "2026-W12", "2026-W13"]
        # The newcomer was hired in W12: only W12 and W13 were hers to be evaluated.
        assert draft_of(self.newcomer.employee).facts["missing_weeks"] == ["2026-W12", "2026-W13"]

    def test_no_weekly_data_gives_no_suggestion(self):
        self.make()
        ev = draft_of(self.teammate_other_team.employee)
        assert (ev.attitude_suggested, ev.ability_suggested, ev.efficiency_suggested) == (None, None, None)
        assert ev.facts["suggestions"]["attitude"]["basis"] == "no_weekly"
        assert ev.facts["missing_weeks"] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]

    def test_running_twice_creates_nothing_more(self):
        self.make()
        ev = draft_of(self.agent.employee)
        services.monthly_draft_update(actor=self.supervisor, evaluation=ev, points={"teamwork": D("18")})
        run = self.make()
        assert (run.created, run.existing) == (0, 4)
        assert MonthlyEvaluation.objects.filter(year=YEAR, month=MONTH).count() == 4
        assert draft_of(self.agent.employee).teamwork == D("18")  # left alone

    def test_one_audit_entry_per_draft_and_one_notice_per_supervisor(self):
        self.make()
        ev = draft_of(self.agent.employee)
        assert [e.action for e in entries_for(ev)] == ["monthly.draft_create"]
        notes = Notification.objects.filter(recipient=self.supervisor)
        assert notes.count() == 1
        assert "3" in notes.get().title  # 王小美, 林雅婷 and the newcomer
        assert Notification.objects.filter(recipient=self.outsider).count() == 1

    def test_not_before_the_month_ends(self):
        with self.assertRaises(ValidationError) as ctx:
            services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH,
                                           now=datetime.datetime(2026, 3, 31, 8, 0, tzinfo=datetime.UTC))
        assert "period" in ctx.exception.message_dict
        assert not MonthlyEvaluation.objects.exists()

    def test_within_limits_the_agents(self):
        from kefu.people.access import scope_q

        run = self.make(within=scope_q(self.outsider, [Role.CS_SUPERVISOR]))
        assert run.created == 1
        assert MonthlyEvaluation.objects.get().agent == self.other_agent.employee

    def test_late_weekly_evaluations_are_gathered_again(self):
        self.make()
        ev = draft_of(self.agent.employee)
        services.monthly_draft_update(actor=self.supervisor, evaluation=ev, points={"ability": D("20")})
        weekly(self.agent.employee, self.team_lead.employee, 12, "submitted", 100, 100, 100)
        ev = services.monthly_facts_refresh(actor=self.supervisor, evaluation=ev)
        # attitude (80 + 90 + 100) / 3 = 90 % × 30 = 27 — followed, as it was left at the suggestion;
        # ability (70 + 80 + 100) / 3 = 83.33 % × 30 = 25 — suggested, but her 20 stays.
        assert ev.attitude_suggested == D("27.00") and ev.attitude == D("27.00")
        assert ev.ability_suggested == D("25.00") and ev.ability == D("20")
        assert ev.facts["missing_weeks"] == ["2026-W13"]


class DraftEditTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)

    def test_the_supervisor_sets_points_with_a_reason_where_needed(self):
        ev = draft_of(self.agent.employee)
        with self.assertRaises(ValidationError) as ctx:
            services.monthly_draft_update(actor=self.supervisor, evaluation=ev,
                                          points={"attitude": D("20"), "teamwork": D("18")})
        assert list(ctx.exception.message_dict) == ["attitude_reason"]
        assert draft_of(self.agent.employee).attitude == D("25.5")  # nothing saved
        ev = services.monthly_draft_update(
            actor=self.supervisor, evaluation=ev, points={"attitude": D("20"), "teamwork": D("18")},
            reasons={"attitude": "兩次被投訴態度不佳"}, comment="本月需加強服務態度")
        # 20 + 22.5 + 13 + 18 = 73.5
        assert ev.total == D("73.50")
        entry = entries_for(ev).first()
        assert entry.action == "monthly.update"
        assert entry.changes["attitude"] == ["25.50", "20.00"]
        assert entry.changes["total"] == [None, "73.50"]

    def test_submit_goes_through_the_flow(self):
        ev = draft_of(self.agent.employee)
        ev = services.monthly_draft_update(actor=self.supervisor, evaluation=ev, points={"teamwork": D("18")},
                                           require_all=True)
        ev = services.monthly_submit(actor=self.supervisor, evaluation=ev)
        assert ev.status == MonthlyEvaluation.Status.SUBMITTED
        assert ev.total == D("79.00")  # 25.5 + 22.5 + 13 + 18
        with self.assertRaises(ValidationError):
            services.monthly_draft_update(actor=self.supervisor, evaluation=ev, points={"teamwork": D("20")})

    def test_only_her_supervisor_edits(self):
        ev = draft_of(self.agent.employee)
        for user in (self.outsider, self.team_lead, self.dept_head, self.hr):
            with self.assertRaises(PermissionDenied):
                services.monthly_draft_update(actor=user, evaluation=ev, points={"teamwork": D("10")})


class CommandTests(KefuTestCase):
    def test_the_command_makes_last_months_drafts(self):
        from io import StringIO

        build_march(self)
        out = StringIO()
        call_command("monthly_drafts", "--period", "2026-03", stdout=out)
        assert MonthlyEvaluation.objects.filter(year=2026, month=3).count() == 3
        assert "3" in out.getvalue()
        out = StringIO()
        call_command("monthly_drafts", "--period", "2026-03", stdout=out)
        assert MonthlyEvaluation.objects.filter(year=2026, month=3).count() == 3
