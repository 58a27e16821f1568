"""Demo data of the uniforms catalogue and stock (issue 6 item 11, 6a's half), through the real services.

Registered as the demo step ``uniforms.catalogue`` (``manage.py seed_demo`` runs it after the demo
company): sizes, summer and winter styles for women and men, their SKUs, what a set is, the stock
locations, a year of receipts (moving-average costs), reorder points, the CS staff's size profiles
and, for staff hired more than a year ago, the set they already held before Kefu (opening
balance, so the renewal list has people on it). Idempotent: a second run creates nothing.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from kefu.people.demo import DEMO_LOGINS
from kefu.people.models import Employee, OrgUnit, Role
from kefu.uniforms import services
from kefu.uniforms.models import (
    GenderVariant,
    Holding,
    ItemType,
    Location,
    Season,
    SetDefinition,
    Size,
    SizeProfile,
    Sku,
    Style,
)

SEED = 20260601
CLOTHES_SIZES = [("S", "S（155/80A）"), ("M", "M（160/84A）"), ("L", "L（165/88A）"), ("XL", "XL（170/92A）"),
                 ("XXL", "XXL（175/96A）")]
ONE_SIZE = ("ONE", "均碼")
# code, name, item type, cut, season, colour, material, reusable, base unit cost, notes
STYLES = [
    ("W-TOP-SU", "女款短袖襯衫", ItemType.TOP, GenderVariant.FEMALE, Season.SUMMER, "白色", "棉 60% 聚酯纖維 40%", False,
     "88.00", "領口與袖口藏青滾邊，左胸繡公司標誌（U1.1）。"),
    ("W-TOP-WI", "女款長袖襯衫", ItemType.TOP, GenderVariant.FEMALE, Season.WINTER, "淺藍", "棉 70% 聚酯纖維 30%", False,
     "108.00", "搭配藏青針織背心穿著。"),
    ("M-TOP-SU", "男款短袖襯衫", ItemType.TOP, GenderVariant.MALE, Season.SUMMER, "白色", "棉 60% 聚酯纖維 40%", False,
     "92.00", "左胸口袋繡公司標誌。"),
    ("M-TOP-WI", "男款長袖襯衫", ItemType.TOP, GenderVariant.MALE, Season.WINTER, "淺藍", "棉 70% 聚酯纖維 30%", False,
     "112.00", ""),
    ("W-SKT", "女款西裙", ItemType.SKIRT, GenderVariant.FEMALE, Season.ALL, "藏青", "羊毛混紡", False, "135.00",
     "及膝，後開衩。"),
    ("W-TRS", "女款西褲", ItemType.TROUSERS, GenderVariant.FEMALE, Season.ALL, "藏青", "羊毛混紡", False, "145.00", ""),
    ("M-TRS", "男款西褲", ItemType.TROUSERS, GenderVariant.MALE, Season.ALL, "藏青", "羊毛混紡", False, "155.00", ""),
    ("TIE", "領帶", ItemType.TIE, GenderVariant.MALE, Season.ALL, "藏青斜紋", "真絲", True, "45.00", "公司標準色。"),
    ("SCF", "絲巾", ItemType.SILK_SCARF, GenderVariant.FEMALE, Season.ALL, "藏青白點", "真絲", True, "58.00", ""),
    ("BADGE", "工牌", ItemType.WORK_BADGE, GenderVariant.ANY, Season.ALL, "銀色", "金屬", True, "12.00",
     "姓名與工號雷射刻字；離職交回。"),
]
SETS = [
    ("女款夏季套裝", GenderVariant.FEMALE, Season.SUMMER, [["top"], ["trousers", "skirt"], ["silk_scarf"]]),
    ("女款冬季套裝", GenderVariant.FEMALE, Season.WINTER, [["top"], ["trousers", "skirt"], ["silk_scarf"]]),
    ("男款夏季套裝", GenderVariant.MALE, Season.SUMMER, [["top"], ["trousers"], ["tie"]]),
    ("男款冬季套裝", GenderVariant.MALE, Season.WINTER, [["top"], ["trousers"], ["tie"]]),
]


def _cs_employees() -> list[Employee]:
    cs_paths = list(OrgUnit.objects.filter(is_customer_service=True).values_list("path", flat=True))
    staff = Employee.objects.filter(status=Employee.Status.ACTIVE).select_related("org_unit").order_by("employee_no")
    return [e for e in staff if any(e.org_unit.path.startswith(p) for p in cs_paths)]


@transaction.atomic
def build_catalogue_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    created: Counter[str] = Counter()
    clerk = get_user_model().objects.filter(username=DEMO_LOGINS[Role.ADMIN_STAFF]).first()
    if clerk is None:
        return {}
    rng = random.Random(SEED)
    today = timezone.localdate()

    sizes = {}
    for order, (code, label) in enumerate([*CLOTHES_SIZES, ONE_SIZE]):
        size = Size.objects.filter(code=code).first()
        if size is None:
            size = services.size_save(actor=clerk, code=code, label=label, order=order)
            created["uniform sizes"] += 1
        sizes[code] = size

    styles = {}
    for code, name, item_type, gender, season, colour, material, reusable, _cost, notes in STYLES:
        style = Style.objects.filter(code=code).first()
        if style is None:
            style = services.style_save(actor=clerk, code=code, name=name, item_type=item_type, gender=gender,
                                        season=season, colour=colour, material=material, reusable=reusable,
                                        design_notes=notes)
            created["uniform styles"] += 1
        styles[code] = style
        wanted = [sizes[ONE_SIZE[0]]] if reusable else [sizes[c] for c, _label in CLOTHES_SIZES]
        created["uniform SKUs"] += len(services.skus_create(actor=clerk, style=style, sizes=wanted))

    for name, gender, season, lines in SETS:
        if not SetDefinition.objects.filter(name=name).exists():
            services.set_definition_save(actor=clerk, name=name, gender=gender, season=season, components=lines)
            created["uniform sets"] += 1

    locations = {}
    for code, name, kind in (("MAIN", "總倉（行政部）", Location.Kind.NEW), ("USED", "舊品倉", Location.Kind.USED)):
        loc = Location.objects.filter(code=code).first()
        if loc is None:
            loc = services.location_save(actor=clerk, code=code, name=name, kind=kind)
            created["stock locations"] += 1
        locations[code] = loc

    # A year of receipts: three deliveries per SKU, the price drifting a little (moving average).
    base_cost = {code: Decimal(cost) for code, *_rest, cost, _notes in STYLES}
    skus = list(Sku.objects.filter(style__code__in=list(styles)).select_related("style", "size").order_by("code"))
    for sku in skus:
        popular = sku.size.code in ("M", "L", "ONE")
        for n, days_ago in enumerate((350, 200, 60)):
            quantity = rng.randint(25, 45) if popular else rng.randint(8, 18)
            if sku.code == "W-TRS-XXL":
                quantity = 1  # short on purpose: 3 on hand, at or below its reorder point of 5 (a low-stock alert)
            cost = (base_cost[sku.style.code] * Decimal(rng.randint(96, 106)) / 100).quantize(Decimal("0.01"))
            at = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=days_ago),
                                                               datetime.time(10, 0)))
            key = f"demo-receipt-{sku.code}-{n}"
            before = sku.moves.filter(idempotency_key=key).exists()
            services.stock_receive(actor=clerk, sku=sku, location=locations["MAIN"], quantity=quantity,
                                   unit_cost=cost, reference=("demo_receipt", f"{today.year - 1}-{n + 1}"),
                                   idempotency_key=key, at=at, reason="示範資料：到貨驗收")
            created["stock receipts"] += 0 if before else 1
        point = 15 if popular else 5
        if sku.reorder_point == 0:
            services.sku_update(actor=clerk, sku=sku, reorder_point=point)

    # Size profiles of CS staff, and the set each long-serving one held before Kefu.
    people = _cs_employees()
    top_size = {"F": ["S", "M", "M", "L"], "M": ["M", "L", "L", "XL"]}
    for e in people:
        cut = "M" if e.gender == "M" else "F"
        if not SizeProfile.objects.filter(employee=e).exists():
            top = rng.choice(top_size[cut])
            bottom = rng.choice(top_size[cut])
            entries: dict[str, Size | None] = {ItemType.TOP: sizes[top], ItemType.TROUSERS: sizes[bottom]}
            if cut == "F":
                entries[ItemType.SKIRT] = sizes[bottom]
            services.size_profile_set(actor=clerk, employee=e, sizes=entries, height_cm=rng.randint(152, 182))
            created["size profiles"] += 1
        if e.hire_date > today - datetime.timedelta(days=365) or Holding.objects.filter(employee=e).exists():
            continue
        profile = {x.item_type: x.size.code for x in SizeProfile.objects.get(employee=e).entries.select_related("size")}
        issued = max(e.hire_date, today - datetime.timedelta(days=rng.randint(380, 760)))
        prefix = "M" if cut == "M" else "W"
        picks = [f"{prefix}-TOP-SU-{profile[ItemType.TOP]}", f"{prefix}-TOP-WI-{profile[ItemType.TOP]}",
                 f"{prefix}-TRS-{profile[ItemType.TROUSERS]}", "TIE-ONE" if cut == "M" else "SCF-ONE", "BADGE-ONE"]
        for code in picks:
            sku = next(s for s in skus if s.code == code)
            created["uniform items held"] += len(services.holding_register(
                actor=clerk, employee=e, sku=sku, quantity=1, issued_on=issued, note="示範資料：導入前已領用"))
    if log:
        for label, count in created.items():
            log(f"{label}: {count}")
    return dict(created)
