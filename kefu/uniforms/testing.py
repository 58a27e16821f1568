"""A small uniform catalogue on top of KefuTestCase's named company.

    class MyTests(UniformsTestCase):
        def test_x(self):
            self.receive(self.top_m, 5, "80.00")

Sizes S, M, L; styles: a women's summer top (TOP-S), trousers (TRS), a skirt (SKT), a tie
(TIE, reusable) and a silk scarf (SCF); one SKU per style and size (``self.sku["TOP-S-M"]``,
``self.top_m`` for short). Locations: MAIN (new stock) and USED (returned stock).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kefu.people.testing import KefuTestCase
from kefu.uniforms import services
from kefu.uniforms.models import ItemType, Location, Season, Size, Sku, StockMove, Style


def build_catalogue(actor) -> dict[str, Any]:
    c: dict[str, Any] = {}
    c["sizes"] = [services.size_save(actor=actor, code=code, label=code, order=i) for i, code in enumerate("SML")]
    specs = [
        ("TOP-S", "夏季女襯衫", ItemType.TOP, Season.SUMMER, False),
        ("TRS", "西褲", ItemType.TROUSERS, Season.ALL, False),
        ("SKT", "西裙", ItemType.SKIRT, Season.ALL, False),
        ("TIE", "領帶", ItemType.TIE, Season.ALL, True),
        ("SCF", "絲巾", ItemType.SILK_SCARF, Season.ALL, True),
    ]
    c["styles"] = {}
    c["sku"] = {}
    for code, name, item_type, season, reusable in specs:
        style = services.style_save(actor=actor, code=code, name=name, item_type=item_type, season=season,
                                    colour="藏青", reusable=reusable)
        c["styles"][code] = style
        for sku in services.skus_create(actor=actor, style=style, sizes=c["sizes"]):
            c["sku"][sku.code] = sku
    c["main"] = services.location_save(actor=actor, code="MAIN", name="總倉", kind=Location.Kind.NEW)
    c["used"] = services.location_save(actor=actor, code="USED", name="舊品倉", kind=Location.Kind.USED)
    return c


class UniformsTestCase(KefuTestCase):
    # Set in setUpTestData (KefuTestCase's named people too: self.agent, self.admin_clerk, …).
    admin_clerk: Any
    sizes: list[Size]
    styles: dict[str, Style]
    sku: dict[str, Sku]
    main: Location
    used: Location
    top_m: Sku
    trs_m: Sku
    tie_m: Sku

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cat = build_catalogue(cls.admin_clerk)
        cls.sizes = cat["sizes"]
        cls.styles = cat["styles"]
        cls.sku = cat["sku"]
        cls.main = cat["main"]
        cls.used = cat["used"]
        cls.top_m = cls.sku["TOP-S-M"]
        cls.trs_m = cls.sku["TRS-M"]
        cls.tie_m = cls.sku["TIE-M"]

    def receive(self, sku: Sku, quantity: int, unit_cost: str | Decimal, location: Location | None = None,
                **kwargs: Any) -> StockMove:
        return services.stock_receive(actor=self.admin_clerk, sku=sku, location=location or self.main,
                                      quantity=quantity, unit_cost=unit_cost, **kwargs)
