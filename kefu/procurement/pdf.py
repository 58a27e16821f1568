"""The printable purchase order (the contract, U1.2): supplier, lines with their specification,
delivery dates, the quality standard and the signature boxes of both parties.

Drawn with ``kefu.core.pdf.KefuPDF`` (the CJK font of settings.KEFU_PDF_FONT); the labels go
through gettext and are printed in the language asked for.
"""

from __future__ import annotations

from django.utils import formats, translation
from django.utils.translation import gettext as _

from kefu.core.pdf import FAMILY, KefuPDF, form_date
from kefu.procurement.models import PurchaseOrder, PurchaseOrderLine, SupplierContact


def _name(user) -> str:
    if user is None:
        return ""
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def order_pdf(order: PurchaseOrder, *, language: str) -> bytes:
    lines = list(PurchaseOrderLine.objects.filter(order=order).select_related("sku").order_by("id"))
    contact = SupplierContact.objects.filter(supplier=order.supplier).order_by("-is_primary", "id").first()
    with translation.override(language):
        pdf = KefuPDF(language=language)
        pdf.set_margins(14, 14, 14)
        pdf.set_auto_page_break(auto=True, margin=14)
        pdf.set_title(f"{_('Purchase order')} {order.number}")
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin
        pdf.set_font(FAMILY, "", 17)
        pdf.cell(width, 10, _("Uniform purchase order"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(width, 5, f"{_('No.')} {order.number}", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

        from fpdf.fonts import FontFace

        label = FontFace(fill_color=(238, 241, 245))
        facts = [
            (_("Supplier"), order.supplier.name),
            (_("Unified social credit code"), order.supplier.credit_code or "—"),
            (_("Contact"), " ".join(p for p in [contact.name, contact.phone] if p) if contact else "—"),
            (_("Supplier address"), order.supplier.address or "—"),
            (_("Order date"), form_date(order.order_date) or _("(draft)")),
            (_("Purchase plan"), order.plan.number),
            (_("Delivery address"), order.delivery_address or "—"),
            (_("Total (¥)"), formats.number_format(order.total, 2, use_l10n=False, force_grouping=True)),
        ]
        pdf.set_font(FAMILY, "", 9.5)
        with pdf.table(col_widths=(20, 30, 20, 30), line_height=7, first_row_as_headings=False,
                       text_align=("LEFT", "LEFT", "LEFT", "LEFT"), padding=1.2) as grid:
            for i in range(0, len(facts), 2):
                row = grid.row()
                for key, value in facts[i: i + 2]:
                    row.cell(str(key), style=label)
                    row.cell(str(value))
            row = grid.row()
            row.cell(_("Quality standard"), style=label)
            row.cell(order.quality_standard or "—", colspan=3)
            if order.terms:
                row = grid.row()
                row.cell(_("Terms"), style=label)
                row.cell(order.terms, colspan=3)
        pdf.ln(4)

        pdf.set_font(FAMILY, "", 8.5)
        columns = [(_("No."), 6), (_("SKU"), 16), (_("Style"), 20), (_("Size"), 7), (_("Colour"), 10),
                   (_("Material"), 16), (_("Quality standard"), 16), (_("Quantity"), 9), (_("Unit price"), 11),
                   (_("Amount"), 13), (_("Delivery date"), 15)]
        with pdf.table(col_widths=tuple(w for _h, w in columns), line_height=6, headings_style=label, padding=1,
                       text_align="CENTER") as table:
            head = table.row()
            for heading, _w in columns:
                head.cell(str(heading))
            for i, line in enumerate(lines, start=1):
                row = table.row()
                for value in (str(i), line.sku.code, line.style_name, line.size_code, line.colour or "—",
                              line.material or "—", line.quality_standard or "—", str(line.quantity),
                              f"{line.unit_price:.2f}", f"{line.amount:.2f}", form_date(line.delivery_date)):
                    row.cell(value)
            row = table.row()
            row.cell(_("Total"), colspan=9, align="RIGHT")
            row.cell(f"{order.total:.2f}")
            row.cell("")
        pdf.ln(4)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.multi_cell(width, 5, _(
            "On arrival the buyer checks quantity, style, colour and quality against this order; units that fail "
            "are returned, replaced or credited."), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

        pdf.signature_boxes([(_("Buyer (admin department)"), _name(order.issued_by), form_date(order.issued_at)),
                             (_("Supplier"), "", "")])
        pdf.printed_note()
        return pdf.bytes()
