"""The printable monthly evaluation sheet (月度考評表, policy E2.2), as a PDF.

A title, the facts of the evaluation (agent, unit, month, supervisor, status), the table of
the four dimensions (maximum, suggestion, points, reason), the total, the facts the
supervisor weighed (weekly evaluations, SLA rates, customer ratings, complaints), her
comment, and signature boxes for the agent, the supervisor and the department head with
what the system recorded (acknowledged, submitted, appeal decided). Labels go through
gettext in the reader's language; the CJK font is ``core.pdf.KefuPDF``'s.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from kefu.core.pdf import FAMILY, KefuPDF, form_date
from kefu.evaluations import monthly
from kefu.evaluations.models import MONTHLY_DIMENSIONS, Appeal, Dimension, MonthlyEvaluation

LABEL_FILL = (238, 241, 245)



def _points(value: Decimal | None) -> str:
    return monthly.number_text(value)


def _pct(value: Any) -> str:
    return "—" if value in (None, "") else f"{Decimal(str(value)):.1f} %"


def _unit_path(unit) -> str:
    parent = getattr(unit, "parent", None)
    return f"{parent.name} / {unit.name}" if parent is not None and parent.kind != "company" else unit.name


def monthly_sheet(ev: MonthlyEvaluation, *, language: str, appeal: Appeal | None = None) -> bytes:
    """The sheet of one monthly evaluation (agent, org unit with parent and supervisor preloaded)."""
    from fpdf.fonts import FontFace

    with translation.override(language):
        facts = ev.facts or {}
        rules = monthly.rules_for(ev.year, ev.month)
        pdf = KefuPDF(language=language)
        pdf.set_margins(16, 14, 16)
        pdf.set_auto_page_break(auto=True, margin=14)
        title = _("Monthly evaluation sheet")
        pdf.set_title(f"{title} {ev.agent.name} {ev.period_label}")
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin
        label = FontFace(fill_color=LABEL_FILL)

        pdf.set_font(FAMILY, "", 18)
        pdf.cell(width, 11, title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(width, 5, _("Policy E2.2 · 100 points"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

        pdf.set_font(FAMILY, "", 10.5)
        grid = [
            (_("Agent"), f"{ev.agent.name} ({ev.agent.employee_no})"),
            (_("Org unit"), _unit_path(ev.agent.org_unit)),
            (_("Month"), ev.period_label),
            (_("CS supervisor"), ev.supervisor.name if ev.supervisor is not None else "—"),
            (_("Status"), str(ev.get_status_display())
             + (f" · {ev.get_final_via_display()}" if ev.final_via else "")),
            (_("Total"), _points(ev.total)),
        ]
        with pdf.table(col_widths=(18, 32, 18, 32), line_height=7.5, first_row_as_headings=False,
                       text_align="LEFT", padding=1.5) as table:
            for i in range(0, len(grid), 2):
                row = table.row()
                for name, value in grid[i: i + 2]:
                    row.cell(str(name), style=label)
                    row.cell(str(value))
        pdf.ln(4)

        labels = dict(Dimension.choices)
        with pdf.table(col_widths=(24, 15, 17, 14, 50), line_height=7, headings_style=label, padding=1.5,
                       text_align=("LEFT", "CENTER", "CENTER", "CENTER", "LEFT")) as table:
            head = table.row()
            for text in (_("Dimension"), _("Maximum"), _("Suggested"), _("Points"), _("Reason")):
                head.cell(str(text))
            for dim in MONTHLY_DIMENSIONS:
                row = table.row()
                row.cell(str(labels[dim]))
                row.cell(_points(rules.weights[dim]))
                row.cell(_points(ev.suggested(dim)))
                row.cell(_points(ev.points(dim)))
                row.cell(getattr(ev, f"{dim}_reason") or "")
            row = table.row()
            row.cell(_("Total"))
            row.cell("100" if sum(rules.weights.values()) == 100 else _points(sum(rules.weights.values(), Decimal(0))))
            row.cell("")
            row.cell(_points(ev.total))
            row.cell("")
        pdf.ln(4)

        sla = facts.get("sla") or {}
        sat = facts.get("satisfaction") or {}
        weeks = facts.get("weeks") or []
        counted = [w["week"] for w in weeks if w.get("status") not in ("missing", "draft")]
        missing = facts.get("missing_weeks") or []
        basis = [
            (_("Weekly evaluations"), ", ".join(counted) or "—"),
            (_("Missing weekly evaluations"), ", ".join(missing) or _("none")),
            (_("First-reply SLA rate"), _pct((sla.get("first_reply") or {}).get("rate_pct"))),
            (_("Resolution SLA rate"), _pct((sla.get("resolution") or {}).get("rate_pct"))),
            (_("Customer ratings"), _("%(n)s answers, mean %(mean)s ★, %(share)s rated 4–5") % {
                "n": sat.get("answers", 0), "mean": sat.get("mean_rating") if sat.get("mean_rating") is not None else "—",
                "share": _pct(sat.get("share_4_5_pct"))}),
            (_("Handled / complaints"), f"{facts.get('handled', 0)} / {facts.get('complaints', 0)}"),
        ]
        pdf.set_font(FAMILY, "", 10)
        with pdf.table(col_widths=(30, 70), line_height=6.5, first_row_as_headings=False, text_align="LEFT",
                       padding=1.5) as table:
            for name, value in basis:
                row = table.row()
                row.cell(str(name), style=label)
                row.cell(str(value))
            row = table.row()
            row.cell(_("Supervisor's comment"), style=label)
            row.cell(ev.comment or "—")
            if appeal is not None:
                row = table.row()
                row.cell(_("Appeal"), style=label)
                text = appeal.reason
                if appeal.decision:
                    text += f"\n{appeal.get_decision_display()}: {appeal.decision_reason}"
                row.cell(text)
        pdf.ln(6)

        boxes = [
            (_("Agent"), ev.agent.name if ev.acknowledged_at else "",
             ev.acknowledged_at, _("acknowledged") if ev.acknowledged_at else ""),
            (_("CS supervisor"), ev.supervisor.name if ev.supervisor is not None and ev.submitted_at else "",
             ev.submitted_at, _("submitted") if ev.submitted_at else ""),
            (_("Department head"), appeal.decided_by.name if appeal and appeal.decided_by is not None else "",
             appeal.decided_at if appeal else None, appeal.get_decision_display() if appeal and appeal.decision else ""),
        ]
        pdf.signature_boxes([(role, str(name) + (f" ({note})" if note else ""), form_date(when))
                             for role, name, when, note in boxes])
        pdf.printed_note()
        return pdf.bytes()
