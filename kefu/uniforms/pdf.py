"""Printable forms (PDF) in the layout of the paper forms: the 《制服領用申請表》 (U2.2) and the
《制服報廢申請表》 (U4.2).

A form is a title, a grid of facts (applicant, department, date, reason), a table of the
items, and a row of signature boxes (申請人 / 部門負責人 / 行政部門經辦人, each with a date).
What the system has recorded (who approved, who issued, and when) is printed in the boxes,
with room left for the handwritten signature the paper copy still carries.

The labels go through gettext and are printed in the language asked for (the user's). The
font is the CJK font named by ``settings.KEFU_PDF_FONT`` (see settings.py); fpdf2 embeds only
the glyphs used, so a form is a few tens of kilobytes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.core.pdf import FAMILY, KefuPDF, form_date


@dataclass
class Signature:
    role: Any  # the box's label, e.g. 部門負責人
    name: str = ""  # who signed in the system, if anybody has
    on: datetime.date | None = None
    note: str = ""  # e.g. "rejected"


@dataclass
class FormSpec:
    title: Any
    number: str
    facts: list[tuple[Any, str]]  # (label, value), printed two to a row
    columns: list[tuple[Any, float]]  # (heading, relative width)
    rows: list[list[str]]
    signatures: list[Signature]
    notes: list[tuple[Any, str]] = field(default_factory=list)  # long texts under the grid
    empty_rows: int = 0  # blank ruled rows after the items, as on paper



def render(spec: FormSpec, *, language: str) -> bytes:
    """The form as PDF bytes, its labels in ``language``."""
    from fpdf.fonts import FontFace

    with translation.override(language):
        pdf = KefuPDF(language=language)
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(auto=True, margin=16)
        pdf.set_title(f"{spec.title} {spec.number}")
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin

        pdf.set_font(FAMILY, "", 18)
        pdf.cell(width, 11, str(spec.title), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(width, 6, f"{_('No.')} {spec.number}", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

        # One face only: loading and subsetting a CJK font costs about a second each, so no bold.
        label_style = FontFace(fill_color=(238, 241, 245))
        pdf.set_font(FAMILY, "", 10.5)
        facts = list(spec.facts)
        if len(facts) % 2:
            facts.append(("", ""))
        with pdf.table(col_widths=(22, 28, 22, 28), line_height=8, first_row_as_headings=False,
                       text_align=("LEFT", "LEFT", "LEFT", "LEFT"), padding=1.5) as grid:
            for i in range(0, len(facts), 2):
                row = grid.row()
                for label, value in facts[i: i + 2]:
                    row.cell(str(label), style=label_style)
                    row.cell(str(value))
            for label, value in spec.notes:
                row = grid.row()
                row.cell(str(label), style=label_style)
                row.cell(str(value) or "—", colspan=3)
        pdf.ln(5)

        pdf.set_font(FAMILY, "", 10)
        widths = tuple(w for _h, w in spec.columns)
        with pdf.table(col_widths=widths, line_height=7.5, headings_style=label_style, padding=1.5,
                       text_align="CENTER") as table:
            head = table.row()
            for heading, _w in spec.columns:
                head.cell(str(heading))
            for values in spec.rows:
                row = table.row()
                for value in values:
                    row.cell(str(value))
            for _n in range(spec.empty_rows):
                row = table.row()
                for _h in spec.columns:
                    row.cell(" ")
        pdf.ln(8)

        pdf.signature_boxes([(sig.role, sig.name + (f" ({sig.note})" if sig.note else ""), form_date(sig.on))
                             for sig in spec.signatures], height=34)
        pdf.printed_note()
        return pdf.bytes()


# --- the two forms ----------------------------------------------------------------------------------


def _employee_label(employee) -> str:
    return f"{employee.name} ({employee.employee_no})"


def _signer_name(user) -> str:
    if user is None:
        return ""
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def requisition_spec(requisition, *, department: str) -> FormSpec:
    """《制服領用申請表》 of one requisition (lines, issuances and people preloaded by the caller)."""
    lines = list(requisition.lines.all())
    issuances = list(requisition.issuances.all())
    first_issue = issuances[-1] if issuances else None  # ordered newest first
    notes: list[tuple[Any, str]] = []
    if requisition.extra_reason:
        notes.append((_("Reason for extra items"), requisition.extra_reason))
    if requisition.damage_report_id:
        notes.append((_("Damage/loss report"), requisition.damage_report.number))
    if requisition.decision_comment:
        notes.append((_("Department head's comment"), requisition.decision_comment))
    rows = []
    for i, line in enumerate(lines, start=1):
        style = line.sku.style
        rows.append([
            str(i), style.name, str(style.get_item_type_display()), style.colour or "—", line.sku.size.code,
            str(line.quantity), str(line.issued_quantity) if line.issued_quantity else "",
        ])
    head_note = ""
    if requisition.status == requisition.Status.REJECTED:
        head_note = _("rejected")
    return FormSpec(
        title=_("Uniform requisition form"),
        number=requisition.number,
        facts=[
            (_("Applicant"), _employee_label(requisition.employee)),
            (_("Department"), department),
            (_("Date of application"), form_date(requisition.submitted_at or requisition.created_at)),
            (_("Reason"), str(requisition.get_reason_display())),
        ],
        notes=notes,
        columns=[(_("No."), 8), (_("Style"), 30), (_("Item type"), 16), (_("Colour"), 14), (_("Size"), 10),
                 (_("Quantity"), 12), (_("Issued"), 12)],
        rows=rows,
        empty_rows=max(0, 4 - len(rows)),
        signatures=[
            Signature(_("Applicant"), requisition.employee.name, (requisition.submitted_at or None) and
                      timezone.localtime(requisition.submitted_at).date()),
            Signature(_("Department head"), _signer_name(requisition.approver),
                      timezone.localtime(requisition.approved_at).date() if requisition.approved_at else None,
                      head_note),
            Signature(_("Admin department, issued by"), _signer_name(first_issue.issued_by) if first_issue else "",
                      timezone.localtime(first_issue.issued_at).date() if first_issue else None),
        ],
    )


def scrap_spec(scrap, *, department: str) -> FormSpec:
    """《制服報廢申請表》 of one scrap request (lines with holdings and SKUs preloaded by the caller)."""
    rows = []
    for i, line in enumerate(scrap.lines.all(), start=1):
        holding = line.holding
        style = holding.sku.style
        rows.append([
            str(i), style.name, style.colour or "—", holding.sku.size.code, form_date(holding.issued_on),
            line.condition or "—",
        ])
    notes: list[tuple[Any, str]] = [(_("Reason"), scrap.reason)]
    if scrap.head_comment:
        notes.append((_("Department head's comment"), scrap.head_comment))
    if scrap.admin_comment:
        notes.append((_("Admin's comment"), scrap.admin_comment))
    status = scrap.Status
    head_note = _("rejected") if scrap.status == status.HEAD_REJECTED else ""
    admin_note = _("rejected") if scrap.status == status.ADMIN_REJECTED else ""
    return FormSpec(
        title=_("Uniform scrap form"),
        number=scrap.number,
        facts=[
            (_("Applicant"), _employee_label(scrap.employee)),
            (_("Department"), department),
            (_("Date of application"), form_date(scrap.submitted_at or scrap.created_at)),
            (_("Items"), str(len(rows))),
        ],
        notes=notes,
        columns=[(_("No."), 8), (_("Style"), 36), (_("Colour"), 14), (_("Size"), 10), (_("Issued on"), 16),
                 (_("Condition"), 30)],
        rows=rows,
        empty_rows=max(0, 4 - len(rows)),
        signatures=[
            Signature(_("Applicant"), scrap.employee.name,
                      timezone.localtime(scrap.submitted_at).date() if scrap.submitted_at else None),
            Signature(_("Department head"), _signer_name(scrap.head_signed_by),
                      timezone.localtime(scrap.head_signed_at).date() if scrap.head_signed_at else None, head_note),
            Signature(_("Admin department, reviewed by"), _signer_name(scrap.admin_reviewed_by),
                      timezone.localtime(scrap.admin_reviewed_at).date() if scrap.admin_reviewed_at else None,
                      admin_note),
        ],
    )


def requisition_pdf(requisition, *, language: str) -> bytes:
    """The 《制服領用申請表》 of a requisition as PDF bytes, in ``language``."""
    from kefu.uniforms.services import department_name

    with translation.override(language):
        return render(requisition_spec(requisition, department=department_name(requisition.employee)),
                      language=language)


def scrap_pdf(scrap, *, language: str) -> bytes:
    """The 《制服報廢申請表》 of a scrap request as PDF bytes, in ``language``."""
    from kefu.uniforms.services import department_name

    with translation.override(language):
        return render(scrap_spec(scrap, department=department_name(scrap.employee)), language=language)
