"""Every uniforms page (6a): allowed / 404 / 403 / anonymous, scope, and bounded queries."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.uniforms import services
from kefu.uniforms.models import Holding, SetDefinition, SizeProfile, Style
from kefu.uniforms.testing import UniformsTestCase

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class PageAccessTests(UniformsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.set_def = services.set_definition_save(
            actor=cls.admin_clerk, name="女裝夏季套裝", gender="F", season="summer",
            components=[["top"], ["trousers", "skirt"], ["tie", "silk_scarf"]])
        cls.count = services.stock_count_create(actor=cls.admin_clerk, location=cls.main)
        cls.retired = services.style_save(actor=cls.admin_clerk, code="OLD", name="舊款", item_type="top", active=False)

    def check(self, url: str, expected: dict, method: str = "get", data=None) -> None:
        for user, status in expected.items():
            self.assertStatus(user, method, url, status, data)

    def test_everyone_signed_in_reads_the_catalogue(self):
        style = self.styles["TOP-S"]
        for name, args in (("home", []), ("catalogue", []), ("sizes", []), ("sets", []),
                           ("style_detail", [style.pk])):
            url = reverse(f"uniforms:{name}", args=args)
            self.check(url, {self.agent: 200, self.hr: 200, self.admin_clerk: 200, None: 302})

    def test_inactive_style_is_hidden_from_non_admins(self):
        url = reverse("uniforms:style_detail", args=[self.retired.pk])
        self.check(url, {self.agent: 404, self.admin_clerk: 200})
        self.check(reverse("uniforms:style_detail", args=[99999]), {self.admin_clerk: 404})

    def test_catalogue_editing_is_for_admin_staff(self):
        style, sku, size = self.styles["TOP-S"], self.top_m, self.sizes[0]
        for url in (reverse("uniforms:style_create"), reverse("uniforms:style_edit", args=[style.pk]),
                    reverse("uniforms:sku_edit", args=[sku.pk]), reverse("uniforms:size_edit", args=[size.pk]),
                    reverse("uniforms:set_create"), reverse("uniforms:set_edit", args=[self.set_def.pk])):
            self.check(url, {self.admin_clerk: 200, self.agent: 403, self.dept_head: 403, self.leadership: 403,
                             None: 302})
        self.check(reverse("uniforms:style_edit", args=[99999]), {self.admin_clerk: 404, self.agent: 404})
        self.check(reverse("uniforms:skus_add", args=[style.pk]), {self.agent: 403}, method="post",
                   data={"sizes": [size.pk]})
        self.check(reverse("uniforms:sizes"), {self.agent: 403}, method="post", data={"code": "XL"})

    def test_stock_pages_are_for_admin_leadership_and_inspectors(self):
        for url in (reverse("uniforms:stock_levels"), reverse("uniforms:ledger"), reverse("uniforms:locations"),
                    reverse("uniforms:counts"), reverse("uniforms:count_detail", args=[self.count.pk])):
            self.check(url, {self.admin_clerk: 200, self.leadership: 200, self.inspector: 200, self.agent: 403,
                             self.dept_head: 403, self.hr: 403, None: 302})
        for url in (reverse("uniforms:stock_move_create"), reverse("uniforms:count_create"),
                    reverse("uniforms:location_edit", args=[self.main.pk])):
            self.check(url, {self.admin_clerk: 200, self.inspector: 403, self.leadership: 403, self.agent: 403})
        self.check(reverse("uniforms:count_detail", args=[99999]), {self.admin_clerk: 404})
        self.check(reverse("uniforms:locations"), {self.inspector: 403}, method="post",
                   data={"code": "X", "name": "X", "kind": "new"})

    def test_renewals_for_people_viewers(self):
        url = reverse("uniforms:renewals")
        self.check(url, {self.admin_clerk: 200, self.dept_head: 200, self.supervisor: 200, self.leadership: 200,
                         self.inspector: 200, self.agent: 403, self.team_lead: 403, self.hr: 403, None: 302})

    def test_returns_for_admin_staff(self):
        self.check(reverse("uniforms:returns"), {self.admin_clerk: 200, self.dept_head: 403, self.agent: 403,
                                                 None: 302})

    def test_photo_is_checked_and_served(self):
        style = self.styles["TOP-S"]
        url = reverse("uniforms:style_photo", args=[style.pk])
        self.check(url, {self.agent: 404})  # no photo yet
        self.login(self.admin_clerk)
        bad = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
        response = self.client.post(reverse("uniforms:style_edit", args=[style.pk]), {
            "code": "TOP-S", "name": style.name, "item_type": "top", "gender": "U", "season": "summer",
            "photo_file": bad, "active": "on"})
        self.assertContains(response, "JPEG, PNG or WebP")
        self.assertFalse(Style.objects.get(pk=style.pk).photo)
        good = SimpleUploadedFile("shirt.png", PNG, content_type="application/octet-stream")
        self.client.post(reverse("uniforms:style_edit", args=[style.pk]), {
            "code": "TOP-S", "name": style.name, "item_type": "top", "gender": "U", "season": "summer",
            "photo_file": good, "active": "on"})
        self.assertEqual(Style.objects.get(pk=style.pk).photo_content_type, "image/png")
        self.login(self.agent)
        response = self.client.get(url)
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/png"))
        self.assertEqual(b"".join(response.streaming_content), PNG)

    def test_set_definition_page_saves_alternatives(self):
        self.login(self.admin_clerk)
        self.client.post(reverse("uniforms:set_create"), {
            "name": "男裝冬季套裝", "gender": "M", "season": "winter", "active": "on",
            "line_0": ["top"], "line_1": ["trousers"], "line_2": ["tie"]})
        s = SetDefinition.objects.get(name="男裝冬季套裝")
        self.assertEqual(list(s.components.values_list("item_types", flat=True)), [["top"], ["trousers"], ["tie"]])
        response = self.client.post(reverse("uniforms:set_create"), {"name": "空", "gender": "U", "season": "all"})
        self.assertContains(response, "A set needs at least one line")
        self.assertFalse(SetDefinition.objects.filter(name="空").exists())


class HoldingScopeTests(UniformsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for user in (cls.agent, cls.teammate_other_team, cls.other_agent):
            services.holding_register(actor=cls.admin_clerk, employee=user.employee, sku=cls.top_m, quantity=1,
                                      issued_on=D(2024, 1, 10))

    def names(self, user) -> set[str]:
        self.login(user)
        response = self.client.get(reverse("uniforms:holdings"))
        self.assertEqual(response.status_code, 200)
        return {h.employee.name for h in response.context["page"].object_list}

    def test_each_sees_her_scope(self):
        self.assertEqual(self.names(self.agent), {"王小美"})
        self.assertEqual(self.names(self.dept_head), {"王小美", "林雅婷"})
        self.assertEqual(self.names(self.supervisor), {"王小美", "林雅婷"})
        self.assertEqual(self.names(self.outsider), {"鄭惠如"})
        self.assertEqual(self.names(self.admin_clerk), {"王小美", "林雅婷", "鄭惠如"})
        self.assertEqual(self.names(self.hr), set())

    def test_renewal_list_counts_per_person_and_unit(self):
        # Issued 2024-01-10 with the 2-year default: due 2026-01-10.
        self.login(self.dept_head)
        response = self.client.get(reverse("uniforms:renewals"), {"days": 3660})
        rows = list(response.context["page"].object_list)
        self.assertEqual({(r["employee__name"], r["items"], r["first_due"]) for r in rows},
                         {("王小美", 1, D(2026, 1, 10)), ("林雅婷", 1, D(2026, 1, 10))})
        units = {d["employee__org_unit__name"]: (d["people"], d["items"]) for d in response.context["departments"]}
        self.assertEqual(units, {"一部一組": (1, 1), "一部二組": (1, 1)})

    def test_size_profile_own_and_admin_edit_others_only_read(self):
        own = reverse("uniforms:size_profile", args=["CS1001"])
        size_m = self.sizes[1]
        self.assertStatus(self.agent, "post", own, 302, {"size_top": size_m.pk, "height_cm": "162"})
        profile = SizeProfile.objects.get(employee=self.agent.employee)
        self.assertEqual((profile.height_cm, profile.entries.get().size_id), (162, size_m.pk))
        self.assertStatus(self.dept_head, "get", own, 200)
        self.assertStatus(self.dept_head, "post", own, 403, {"size_top": size_m.pk})
        self.assertStatus(self.other_agent, "get", own, 404)
        self.assertStatus(self.outsider, "get", own, 404)
        self.assertStatus(self.admin_clerk, "post", own, 302, {"size_trousers": size_m.pk})
        self.assertEqual(profile.entries.count(), 1)  # the admin's form cleared top, set trousers
        self.assertStatus(self.agent, "get", reverse("uniforms:my_size_profile"), 302)
        self.assertStatus(None, "get", own, 302)
        self.login(self.agent)
        bad = self.client.post(own, {"height_cm": "9999"})
        self.assertIn("height_cm", bad.context["form"].errors)
        self.assertIsNone(SizeProfile.objects.get(employee=self.agent.employee).height_cm)  # as the admin left it


class QueryCountTests(UniformsTestCase):
    def queries(self, user, url: str, params=None) -> int:
        self.login(user)
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url, params or {})
        self.assertEqual(response.status_code, 200, url)
        return len(ctx.captured_queries)

    def grow(self, n: int) -> None:
        for i in range(n):
            sku = self.sku[["TOP-S-S", "TOP-S-M", "TRS-L", "TIE-M", "SCF-S"][i % 5]]
            self.receive(sku, 3, "10.00")
            services.stock_issue(actor=self.admin_clerk, sku=sku, location=self.main, quantity=1)
            services.holding_register(actor=self.admin_clerk, employee=[self.agent, self.teammate_other_team,
                                                                       self.other_agent][i % 3].employee,
                                      sku=sku, quantity=1, issued_on=D(2024, 1, 1 + i))
            services.stock_count_create(actor=self.admin_clerk, location=self.main)

    def test_list_pages_run_a_bounded_number_of_queries(self):
        pages = [
            (self.admin_clerk, reverse("uniforms:stock_levels"), None),
            (self.admin_clerk, reverse("uniforms:ledger"), None),
            (self.admin_clerk, reverse("uniforms:holdings"), None),
            (self.admin_clerk, reverse("uniforms:renewals"), {"days": 3660}),
            (self.admin_clerk, reverse("uniforms:catalogue"), None),
            (self.admin_clerk, reverse("uniforms:counts"), None),
            (self.admin_clerk, reverse("uniforms:returns"), None),
            (self.admin_clerk, reverse("uniforms:sets"), None),
            (self.agent, reverse("uniforms:holdings"), None),
            (self.agent, reverse("uniforms:home"), None),
        ]
        self.grow(2)
        small = [self.queries(u, url, p) for u, url, p in pages]
        self.grow(12)
        large = [self.queries(u, url, p) for u, url, p in pages]
        self.assertEqual(small, large)
        self.assertTrue(all(n <= 20 for n in large), large)
        self.assertGreater(Holding.objects.count(), 10)

    def test_catalogue_pages_run_a_fixed_number_of_queries(self):
        """Issue 9: the catalogue, sets, sizes and locations read as many queries for a few rows as for more of
        them (styles of several item types with their SKUs, sets with their lines, sizes, locations)."""
        pages = [
            (self.admin_clerk, reverse("uniforms:catalogue")),
            (self.agent, reverse("uniforms:catalogue")),
            (self.admin_clerk, reverse("uniforms:sets")),
            (self.agent, reverse("uniforms:sets")),
            (self.admin_clerk, reverse("uniforms:sizes")),
            (self.admin_clerk, reverse("uniforms:locations")),
        ]
        services.set_definition_save(actor=self.admin_clerk, name="套裝", gender="F", season="summer",
                                     components=[["top"], ["trousers", "skirt"]])
        for user, url in pages:
            self.queries(user, url)  # warm the session
        small = [self.queries(user, url) for user, url in pages]
        xl = services.size_save(actor=self.admin_clerk, code="XL", label="XL", order=9)
        for i, item_type in enumerate(["top", "trousers", "skirt", "tie", "silk_scarf", "top"]):
            style = services.style_save(actor=self.admin_clerk, code=f"NEW{i}", name=f"新款{i}", item_type=item_type,
                                        gender="F" if i % 2 else "M", active=i != 5)
            services.skus_create(actor=self.admin_clerk, style=style, sizes=[*self.sizes[: 1 + i % 3], xl])
        for i in range(4):
            services.set_definition_save(actor=self.admin_clerk, name=f"套裝{i}", gender="M", season="winter",
                                         components=[["top"], ["tie"], ["trousers"]][: 1 + i % 3])
            services.location_save(actor=self.admin_clerk, code=f"LOC{i}", name=f"分倉{i}", kind="new")
        large = [self.queries(user, url) for user, url in pages]
        self.assertEqual(small, large)
        self.assertEqual(Style.objects.count(), 5 + 6)
        self.assertEqual(SetDefinition.objects.count(), 5)
