"""The printable award certificate (policy E3.2): A4 landscape, in the reader's language, with the CJK
font of ``core.pdf.KefuPDF``: the company, the award, the person, the year, the certificate number and
the date leadership approved it."""

from __future__ import annotations

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kefu.annual.models import AwardKind, AwardNomination
from kefu.core.pdf import FAMILY, KefuPDF
from kefu.people.models import OrgUnit

GOLD = (176, 141, 58)
INK = (40, 40, 40)
GREY = (110, 110, 110)


def company_name() -> str:
    root = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMPANY, parent__isnull=True).order_by("path").first()
    return root.name if root is not None else ""


def certificate(nomination: AwardNomination, *, language: str) -> bytes:
    """One approved nomination's certificate (result__employee and cycle preloaded)."""
    employee = nomination.result.employee
    year = nomination.cycle.year
    on = timezone.localtime(nomination.decided_at).date() if nomination.decided_at else timezone.localdate()
    company = company_name()
    with translation.override(language):
        award = str(AwardKind(nomination.kind).label)
        pdf = KefuPDF(language=language, orientation="landscape")
        pdf.set_title(f"{award} {year} {employee.name}")
        pdf.set_auto_page_break(auto=False)
        pdf.add_page()
        w, h = pdf.w, pdf.h
        # A double frame, as printed certificates have.
        pdf.set_draw_color(*GOLD)
        pdf.set_line_width(1.6)
        pdf.rect(10, 10, w - 20, h - 20)
        pdf.set_line_width(0.4)
        pdf.rect(14, 14, w - 28, h - 28)

        inner = w - 60
        pdf.set_text_color(*INK)
        pdf.set_xy(30, 36)
        pdf.set_font(FAMILY, "", 16)
        pdf.cell(inner, 10, company, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(30)
        pdf.set_font(FAMILY, "", 34)
        pdf.set_text_color(*GOLD)
        pdf.cell(inner, 20, _("Certificate of Honour"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_text_color(*INK)
        pdf.set_x(30)
        pdf.set_font(FAMILY, "", 30)
        pdf.cell(inner, 18, employee.name, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_x(30)
        pdf.set_font(FAMILY, "", 15)
        pdf.multi_cell(inner, 9, _("In recognition of your outstanding work in %(year)s, you are awarded") % {
            "year": year}, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_x(30)
        pdf.set_font(FAMILY, "", 26)
        pdf.set_text_color(*GOLD)
        pdf.cell(inner, 16, f"{year} {award}", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*INK)

        # Number on the left, company and date on the right, near the bottom.
        pdf.set_font(FAMILY, "", 11)
        pdf.set_text_color(*GREY)
        pdf.set_xy(30, h - 48)
        pdf.cell(inner / 2, 7, _("Certificate no. %(number)s") % {"number": nomination.certificate_no},
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(30)
        pdf.cell(inner / 2, 7, _("Policy E3.2"))
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "", 14)
        pdf.set_xy(30 + inner / 2, h - 50)
        pdf.cell(inner / 2, 8, company, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_xy(30 + inner / 2, h - 41)
        pdf.cell(inner / 2, 8, formats.date_format(on, "Y-m-d"), align="R")
        return pdf.bytes()
