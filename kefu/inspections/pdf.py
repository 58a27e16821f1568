"""The printable inspection report (檢查報告, policy S2/S3), as a PDF.

Header (title, kind, status), scope, period, method, lead inspector and dates; the sample with its
seed (so a reader can repeat the draw); the checklist with each item's result and notes; the findings
with the department and person concerned and, when one was requested, the rectification's status and
deadline; the summary; signature boxes. Labels go through gettext in the reader's language; the CJK
font is ``core.pdf.KefuPDF``'s.
"""

from __future__ import annotations

import datetime

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kefu.core.pdf import FAMILY, KefuPDF
from kefu.inspections import selectors
from kefu.inspections.models import Finding, Inspection, Method

LABEL_FILL = (238, 241, 245)
FAIL_FILL = (248, 215, 218)


def _date(value: datetime.datetime | datetime.date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "Y-m-d H:i")
    return formats.date_format(value, "Y-m-d")


def _name(user) -> str:
    if user is None:
        return "—"
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def inspection_report(inspection: Inspection, *, language: str) -> bytes:
    """The report of one inspection (loaded through ``selectors.inspection_for_page``)."""
    from fpdf.fonts import FontFace

    with translation.override(language):
        pdf = KefuPDF(language=language)
        pdf.set_margins(16, 14, 16)
        pdf.set_auto_page_break(auto=True, margin=14)
        title = _("Inspection report")
        pdf.set_title(f"{title} {inspection.title}")
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin
        label = FontFace(fill_color=LABEL_FILL)
        failed = FontFace(fill_color=FAIL_FILL)

        pdf.set_font(FAMILY, "", 18)
        pdf.cell(width, 11, title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 11)
        pdf.cell(width, 6, inspection.title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 8.5)
        pdf.cell(width, 5, _("Policy S1–S3 · supervision and inspection"), align="C", new_x="LMARGIN",
                 new_y="NEXT")
        pdf.ln(3)

        counts = selectors.counts(inspection)
        methods = ", ".join(str(Method(m).label) for m in inspection.methods if m in Method.values) or "—"
        grid = [
            (_("What is checked"), str(inspection.get_topic_display())),
            (_("Kind"), str(inspection.get_kind_display())),
            (_("Scope"), inspection.org_unit.name if inspection.org_unit else _("The whole company")),
            (_("Period"), f"{_date(inspection.period_start)} – {_date(inspection.period_end)}"),
            (_("Method"), methods),
            (_("Status"), str(inspection.get_status_display())),
            (_("Lead inspector"), _name(inspection.lead_inspector)),
            (_("Plan"), inspection.plan.title if inspection.plan else _("Unannounced")),
            (_("Started"), _date(inspection.started_at)),
            (_("Completed"), _date(inspection.completed_at)),
        ]
        pdf.set_font(FAMILY, "", 10)
        with pdf.table(col_widths=(18, 32, 18, 32), line_height=7, first_row_as_headings=False,
                       text_align="LEFT", padding=1.5) as table:
            for i in range(0, len(grid), 2):
                row = table.row()
                for name, value in grid[i: i + 2]:
                    row.cell(str(name), style=label)
                    row.cell(str(value))
        pdf.ln(4)

        # The sample (with its seed: the same seed and sizes give the same records).
        pdf.set_font(FAMILY, "", 12)
        pdf.cell(width, 7, _("Sample"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        samples = selectors.sample_rows(inspection)
        if inspection.seed is None:
            pdf.multi_cell(width, 5, _("No sample drawn."), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(width, 5, ngettext("Seed %(seed)s, drawn %(when)s; %(n)s record.",
                                              "Seed %(seed)s, drawn %(when)s; %(n)s records.", len(samples)) % {
                "seed": inspection.seed, "when": _date(inspection.sampled_at), "n": len(samples)},
                new_x="LMARGIN", new_y="NEXT")
            if samples:
                pdf.ln(1)
                with pdf.table(col_widths=(8, 32, 60), line_height=6, headings_style=label, padding=1.2,
                               text_align=("RIGHT", "LEFT", "LEFT")) as table:
                    head = table.row()
                    for text in ("#", _("Kind"), _("Record")):
                        head.cell(str(text))
                    for sample_row in samples:
                        row = table.row()
                        row.cell(str(sample_row.sample.order))
                        row.cell(str(sample_row.sample.get_kind_display()))
                        row.cell(sample_row.sample.label)
        pdf.ln(4)

        # The checklist and its results.
        pdf.set_font(FAMILY, "", 12)
        pdf.cell(width, 7, _("Checklist"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(width, 5, _("%(total)s items: %(pass)s passed, %(fail)s failed, %(na)s not applicable, "
                             "%(open)s not recorded.") % counts, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        with pdf.table(col_widths=(7, 50, 10, 17, 36), line_height=6, headings_style=label, padding=1.2,
                       text_align=("RIGHT", "LEFT", "CENTER", "CENTER", "LEFT")) as table:
            head = table.row()
            for text in ("#", _("Item"), _("Clause"), _("Result"), _("Notes")):
                head.cell(str(text))
            for item in inspection.items.all():
                style = failed if item.result == "fail" else None
                row = table.row()
                row.cell(str(item.order))
                row.cell(item.text)
                row.cell(item.clause or "")
                row.cell(str(item.get_result_display()), style=style)
                row.cell(item.notes or "")
        pdf.ln(4)

        # Findings and their rectification (S3).
        pdf.set_font(FAMILY, "", 12)
        pdf.cell(width, 7, _("Findings"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        findings: list[Finding] = selectors.findings_with_rectification(inspection)
        if not findings:
            pdf.cell(width, 5, _("No findings."), new_x="LMARGIN", new_y="NEXT")
        else:
            with pdf.table(col_widths=(7, 45, 20, 28), line_height=6, headings_style=label, padding=1.2,
                           text_align="LEFT") as table:
                head = table.row()
                for text in ("#", _("Finding"), _("Department / person concerned"), _("Rectification")):
                    head.cell(str(text))
                for n, finding in enumerate(findings, start=1):
                    row = table.row()
                    row.cell(str(n))
                    row.cell(finding.title + (f"\n{finding.detail}" if finding.detail else ""))
                    row.cell(finding.org_unit.name + (f" / {finding.employee.name}" if finding.employee else ""))
                    rect = getattr(finding, "rect", None)
                    if rect is None:
                        row.cell(_("Not requested"))
                    else:
                        row.cell(_("%(status)s; deadline %(deadline)s; responsible %(who)s") % {
                            "status": rect.get_status_display(), "deadline": _date(rect.deadline),
                            "who": _name(rect.responsible)})
        pdf.ln(4)

        pdf.set_font(FAMILY, "", 12)
        pdf.cell(width, 7, _("Summary"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(width, 5.5, inspection.summary or "—", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(5)

        when = inspection.completed_at
        pdf.signature_boxes([(_("Lead inspector"), _name(inspection.lead_inspector), _date(when) if when else ""),
                             (_("Department concerned"), "", "")], height=26)
        pdf.printed_note()
        return pdf.bytes()
