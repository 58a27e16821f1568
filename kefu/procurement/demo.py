"""Demo data of procurement (issue 7 item 8), written through the services (the audit log has it all).

Registered as the demo step ``procurement.spring_plan``, after the uniforms demo (it needs the
catalogue, the staff's size profiles and their holdings). It creates:

- three qualified suppliers with their business licences (scans), a quality certificate and contacts;
- the spring plan "2027 春季制服採購計劃" for women's summer tops and trousers, silk scarves and
  ties, with Kefu's proposal (60 expected new hires, renewals due within a year); admin tops up a
  line the proposal leaves empty (stock covers it) and keeps the total under the second-approval
  amount; leadership approves it;
- a request for quotation to the three suppliers, two negotiation rounds, the award to the lowest
  total, the purchase order issued;
- a first delivery in which 3 units of one size fail the colour check (a supplier issue, to be
  replaced), and the replacement delivery that closes the issue and the order;
- an autumn plan submitted and waiting for leadership (a to-do on the workbench).

Idempotent: when the spring plan exists, nothing is added.
"""

from __future__ import annotations

import datetime
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from kefu.core import policy
from kefu.people.demo import DEMO_LOGINS
from kefu.people.models import Role
from kefu.procurement import services
from kefu.procurement.models import PlanLine, PlanLineSize, PurchasePlan, Supplier, SupplierCertificate
from kefu.uniforms.models import Location, Style

SPRING_TITLE = "2027 春季制服採購計劃"
AUTUMN_TITLE = "2027 秋冬制服採購計劃"
SPRING_STYLES = ["W-TOP-SU", "W-TRS", "SCF", "TIE"]
AUTUMN_STYLES = ["W-TOP-WI", "M-TOP-WI"]
SUPPLIERS = [
    # code, name, credit code, address, contact, phone, price factor in round 1, in round 2
    ("SUP-001", "華美製衣有限公司", "91310115MA1K3ABC1X", "上海市浦東新區川沙路 1200 號", "陳經理", "021-5890-1234",
     Decimal("0.97"), Decimal("0.94")),
    ("SUP-002", "錦繡服飾股份有限公司", "91320506MA1N7DEF2Y", "江蘇省蘇州市吳中區東吳北路 88 號", "林主任", "0512-6523-8899",
     Decimal("1.03"), Decimal("0.98")),
    ("SUP-003", "恒達紡織品有限公司", "91330681MA2B9GHJ3Z", "浙江省紹興市柯橋區紡織大道 6 號", "周業務", "0575-8412-7766",
     Decimal("0.99"), None),
]
CENT = Decimal("0.01")


def _pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned document."""
    body = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (40, 70, 140)) -> bytes:
    """A small solid-colour PNG standing in for a photo of the acceptance check."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _suppliers(clerk, created: Counter[str]) -> dict[str, Supplier]:
    today = timezone.localdate()
    out = {}
    for code, name, credit, address, contact, phone, _f1, _f2 in SUPPLIERS:
        supplier = Supplier.objects.filter(code=code).first()
        if supplier is None:
            supplier = services.supplier_create(actor=clerk, code=code, name=name, credit_code=credit, address=address,
                                                contact={"name": contact, "phone": phone})
            services.certificate_add(
                actor=clerk, supplier=supplier, kind=SupplierCertificate.Kind.BUSINESS_LICENCE, name="營業執照",
                number=credit, issued_on=datetime.date(2018, 4, 1),
                scan=SimpleUploadedFile(f"{code}-licence.pdf", _pdf(f"Business licence {code}"), "application/pdf"))
            services.certificate_add(
                actor=clerk, supplier=supplier, kind=SupplierCertificate.Kind.QUALITY, name="ISO 9001 質量管理體系認證",
                number=f"ISO-{code}", issued_on=today - datetime.timedelta(days=400),
                expires_on=today + datetime.timedelta(days=700),
                scan=SimpleUploadedFile(f"{code}-iso9001.pdf", _pdf(f"ISO 9001 {code}"), "application/pdf"))
            supplier = services.supplier_qualify(actor=clerk, supplier=supplier, reason="資質審核通過")
            created["suppliers"] += 1
        out[code] = supplier
    return out


def _shape_lines(clerk, plan: PurchasePlan) -> None:
    """Admin's edits of the proposal: a line left empty gets a top-up in its usual size, and the
    total is kept under the second-approval amount (the demo company has one leader)."""
    for line in PlanLine.objects.filter(plan=plan).select_related("style"):
        sizes = list(PlanLineSize.objects.filter(line=line).select_related("sku__size").order_by("sku__size__order"))
        if sum(s.quantity for s in sizes) == 0 and sizes:
            usual = next((s for s in sizes if s.sku.size.code in ("M", "ONE")), sizes[0])
            services.plan_line_update(actor=clerk, line=line, quantities={usual.sku_id: 20},
                                      note="建議量為零，按往年春季消耗補充 20 件")
    plan.refresh_from_db()
    ceiling = Decimal(str(policy.get("procurement.second_approval_amount", on=timezone.localdate()))) * Decimal("0.8")
    if plan.total_budget > ceiling:
        factor = ceiling / plan.total_budget
        for line in PlanLine.objects.filter(plan=plan):
            rows = PlanLineSize.objects.filter(line=line)
            services.plan_line_update(actor=clerk, line=line, quantities={
                s.sku_id: max(1 if s.quantity else 0, int(s.quantity * factor)) for s in rows},
                note="按預算上限等比例調減")


def _quote_all(clerk, rfq, factors: dict[str, Decimal | None], suppliers: dict[str, Supplier]) -> None:
    today = timezone.localdate()
    lines = list(PlanLine.objects.filter(plan=rfq.plan, quantity__gt=0))
    for code, factor in factors.items():
        if factor is None:
            continue
        prices = {line.pk: ((line.target_unit_price * factor).quantize(CENT, ROUND_HALF_UP), 21 + lines.index(line) * 3)
                  for line in lines}
        services.quote_record(actor=clerk, rfq=rfq, supplier=suppliers[code], received_on=today,
                              valid_until=today + datetime.timedelta(days=45), lines=prices,
                              note=f"第 {rfq.round} 輪報價", attachments=[SimpleUploadedFile(
                                  f"{code}-quote-r{rfq.round}.pdf", _pdf(f"Quotation {code} round {rfq.round}"),
                                  "application/pdf")])


@transaction.atomic
def build_procurement_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    created: Counter[str] = Counter()
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=[DEMO_LOGINS[Role.ADMIN_STAFF], DEMO_LOGINS[Role.LEADERSHIP]])}
    clerk, boss = users.get(DEMO_LOGINS[Role.ADMIN_STAFF]), users.get(DEMO_LOGINS[Role.LEADERSHIP])
    styles = {s.code: s for s in Style.objects.filter(code__in=SPRING_STYLES + AUTUMN_STYLES)}
    location = Location.objects.filter(code="MAIN").first()
    if clerk is None or boss is None or any(c not in styles for c in SPRING_STYLES) or location is None:
        return {}  # the demo company and the uniforms catalogue come first
    if PurchasePlan.objects.filter(title=SPRING_TITLE).exists():
        return {}
    suppliers = _suppliers(clerk, created)

    # The spring plan, proposed by Kefu, shaped by admin, approved by leadership.
    plan = services.plan_create(actor=clerk, title=SPRING_TITLE, season="spring", year=2027,
                                horizon_start=datetime.date(2027, 3, 1), horizon_end=datetime.date(2028, 2, 29),
                                expected_new_hires=60, propose=False,
                                notes="2027 年新進客服約 60 人（新設投訴處理二組）；女款夏季襯衫、西褲、絲巾與領帶。")
    services.plan_propose(actor=clerk, plan=plan, add_styles=[styles[c] for c in SPRING_STYLES])
    _shape_lines(clerk, plan)
    plan = services.plan_submit(actor=clerk, plan=plan)
    plan = services.plan_approve(actor=boss, plan=plan, comment="同意，注意面料色牢度。")
    created["purchase plans"] += 1

    # Quotations: three suppliers, a second round of negotiation, the award to the lowest total.
    rfq = services.rfq_create(actor=clerk, plan=plan, suppliers=list(suppliers.values()),
                              quote_due_on=timezone.localdate() + datetime.timedelta(days=7),
                              notes="請按附件規格報價，含運費。")
    _quote_all(clerk, rfq, {code: f1 for code, *_r, f1, _f2 in SUPPLIERS}, suppliers)
    rfq = services.rfq_next_round(actor=clerk, rfq=rfq, note="議價：請 SUP-001、SUP-002 再報")
    _quote_all(clerk, rfq, {code: f2 for code, *_r, _f1, f2 in SUPPLIERS}, suppliers)
    award = services.rfq_award(actor=clerk, rfq=rfq, supplier=suppliers["SUP-001"])
    order = services.order_update(actor=clerk, order=award.order, delivery_address="上海市浦東新區客服中心 行政部倉庫",
                                  quality_standard="GB/T 2660-2017《襯衫》一等品；色差不低於 4 級；成分與吊牌一致。",
                                  terms="貨到驗收合格後 30 日內付款；不合格品由供應商退換。")
    order = services.order_issue(actor=clerk, order=order)
    created["purchase orders"] += 1

    # Delivery: one size of the first line fails the colour check (3 units), then the replacement.
    lines = list(order.lines.select_related("sku").order_by("id"))
    failing = max((x for x in lines if x.plan_line_id == lines[0].plan_line_id), key=lambda x: x.quantity)
    rejected = min(3, failing.quantity)
    rows = []
    for line in lines:
        if line.pk == failing.pk:
            rows.append({"order_line": line, "delivered": line.quantity, "accepted": line.quantity - rejected,
                         "colour_ok": False, "notes": f"{rejected} 件顏色偏深，與確認樣不符（色差 3 級）",
                         "photos": [SimpleUploadedFile("colour-check.png", _png(), "image/png")]})
        else:
            rows.append({"order_line": line, "delivered": line.quantity})
    services.receipt_create(actor=clerk, order=order, delivered_on=timezone.localdate(), lines=rows, location=location,
                            delivery_note_no="HM-DN-0001", note="第一批到貨", post=True)
    services.receipt_create(actor=clerk, order=order, delivered_on=timezone.localdate(), location=location,
                            lines=[{"order_line": failing, "delivered": rejected}], delivery_note_no="HM-DN-0002",
                            note="換貨", post=True)
    created["receipts"] += 2

    # An autumn plan waiting for leadership.
    autumn_styles = [styles[c] for c in AUTUMN_STYLES if c in styles]
    if autumn_styles:
        autumn = services.plan_create(actor=clerk, title=AUTUMN_TITLE, season="autumn", year=2027,
                                      horizon_start=datetime.date(2027, 9, 1), horizon_end=datetime.date(2027, 12, 31),
                                      expected_new_hires=25, propose=False)
        services.plan_propose(actor=clerk, plan=autumn, add_styles=autumn_styles)
        _shape_lines(clerk, autumn)
        services.plan_submit(actor=clerk, plan=autumn)
        created["purchase plans"] += 1
    if log:
        for label, count in created.items():
            log(f"{label}: {count}")
    return dict(created)

