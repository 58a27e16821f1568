"""API (issue 6 item 10, 6a's half): catalogue and stock levels, read only."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.api.testing import ApiTestCase
from kefu.uniforms import services
from kefu.uniforms.testing import build_catalogue


class CatalogueApiTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cat = build_catalogue(cls.admin_clerk)
        cls.main = cat["main"]
        cls.top_m = cat["sku"]["TOP-S-M"]
        services.style_save(actor=cls.admin_clerk, code="OLD", name="舊款", item_type="top", active=False)
        services.set_definition_save(actor=cls.admin_clerk, name="女裝夏季套裝", gender="F", season="summer",
                                     components=[["top"], ["trousers", "skirt"], ["tie", "silk_scarf"]])

    def test_everyone_reads_active_styles_without_costs(self):
        services.stock_receive(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=2,
                               unit_cost="88.50")
        body = self.assertApi(self.agent, "get", "/uniforms/styles", 200).json()
        codes = [s["code"] for s in body["items"]]
        self.assertEqual(codes, ["TOP-S", "TRS", "SKT", "TIE", "SCF"])  # item-type order, OLD hidden
        top = body["items"][0]
        self.assertEqual([s["size"] for s in top["skus"]], ["S", "M", "L"])
        self.assertIsNone(top["skus"][1]["unit_cost"])
        admin = self.assertApi(self.admin_clerk, "get", "/uniforms/styles?item_type=top", 200).json()
        self.assertEqual([s["code"] for s in admin["items"]], ["OLD", "TOP-S"])
        self.assertEqual(admin["items"][1]["skus"][1]["unit_cost"], "88.50")

    def test_one_style_and_404(self):
        self.assertEqual(self.assertApi(self.agent, "get", "/uniforms/styles/TIE", 200).json()["reusable"], True)
        self.assertApi(self.agent, "get", "/uniforms/styles/OLD", 404)
        self.assertApi(self.agent, "get", "/uniforms/styles/NOPE", 404)
        self.assertApi(None, "get", "/uniforms/styles/TIE", 401)

    def test_sets(self):
        body = self.assertApi(self.agent, "get", "/uniforms/sets", 200).json()
        self.assertEqual(body[0]["components"][1]["item_types"], ["trousers", "skirt"])

    def test_set_list_query_count_does_not_grow_with_the_sets(self):
        """Issue 9: the sets list reads as many queries for 1 set as for 5, each with its components."""
        self.assertApi(self.agent, "get", "/uniforms/sets", 200)  # the token's last-use write
        with CaptureQueriesContext(connection) as few:
            self.assertApi(self.agent, "get", "/uniforms/sets", 200)
        for i, (gender, season) in enumerate([("F", "winter"), ("M", "summer"), ("M", "winter"), ("F", "all")]):
            services.set_definition_save(actor=self.admin_clerk, name=f"套裝{i}", gender=gender, season=season,
                                         components=[["top"], ["trousers"], ["tie"]][: 1 + i % 3])
        with self.assertNumQueries(len(few.captured_queries)):
            body = self.assertApi(self.agent, "get", "/uniforms/sets", 200).json()
        self.assertEqual(len(body), 5)
        self.assertEqual(sorted(len(s["components"]) for s in body), [1, 1, 2, 3, 3])

    def test_stock_levels_for_stock_readers_only(self):
        services.stock_receive(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=4,
                               unit_cost="50.00")
        services.sku_update(actor=self.admin_clerk, sku=self.top_m, reorder_point=4)
        for user in (self.admin_clerk, self.leadership, self.inspector):
            body = self.assertApi(user, "get", "/uniforms/stock-levels", 200).json()
            self.assertEqual(body["items"], [{
                "sku": "TOP-S-M", "style": "TOP-S", "size": "M", "location": "MAIN", "location_kind": "new",
                "on_hand": 4, "reorder_point": 4, "low_stock": True, "updated_at": body["items"][0]["updated_at"]}])
        for user in (self.agent, self.dept_head, self.hr):
            self.assertApi(user, "get", "/uniforms/stock-levels", 403)
        self.assertApi(None, "get", "/uniforms/stock-levels", 401)
        self.assertEqual(self.assertApi(self.admin_clerk, "get", "/uniforms/stock-levels?low=false", 200)
                         .json()["count"], 0)
        self.assertEqual(self.assertApi(self.admin_clerk, "get", "/uniforms/stock-levels?sku=TRS-M", 200)
                         .json()["count"], 0)

    def test_queries_do_not_grow_with_rows(self):
        def count(path: str) -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertApi(self.admin_clerk, "get", path, 200)
            return len(ctx.captured_queries)

        services.stock_receive(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=1, unit_cost="1")
        self.assertApi(self.admin_clerk, "get", "/uniforms/sets", 200)  # the token's first use is recorded once
        small = (count("/uniforms/styles"), count("/uniforms/stock-levels"))
        for sku in list(self.top_m.style.skus.all()) + list(self.top_m.__class__.objects.all()[:8]):
            services.stock_receive(actor=self.admin_clerk, sku=sku, location=self.main, quantity=1, unit_cost="1")
        sizes = list(self.top_m.size.__class__.objects.all())
        for i, item_type in enumerate(["tie", "top", "skirt"]):  # new styles, each with its SKUs
            style = services.style_save(actor=self.admin_clerk, code=f"NEW{i}", name=f"新款{i}", item_type=item_type)
            services.skus_create(actor=self.admin_clerk, style=style, sizes=sizes[: i + 1])
        self.assertEqual((count("/uniforms/styles"), count("/uniforms/stock-levels")), small)
