"""The uniforms catalogue demo step: built through the services, complete, idempotent."""

from django.test import TestCase

from kefu.people.demo import build_demo
from kefu.uniforms import services
from kefu.uniforms.demo import build_catalogue_demo
from kefu.uniforms.models import Holding, Location, SetDefinition, SizeProfile, Sku, StockMove, Style


class CatalogueDemoTests(TestCase):
    def test_builds_once_and_a_second_run_adds_nothing(self):
        build_demo(agents_per_team=2)
        created = build_catalogue_demo()
        # 7 clothing styles × 5 sizes + 3 one-size accessories
        self.assertEqual((created["uniform styles"], created["uniform SKUs"]), (10, 38))
        self.assertEqual(created["stock receipts"], 38 * 3)
        self.assertEqual(set(Style.objects.values_list("season", flat=True)), {"summer", "winter", "all"})
        self.assertEqual(SetDefinition.objects.count(), 4)
        self.assertEqual(Location.objects.filter(kind="used").count(), 1)
        self.assertEqual(services.stock_level_mismatches(), [])
        low = list(Sku.objects.filter(low_stock_since__isnull=False).values_list("code", flat=True))
        self.assertEqual(low, ["W-TRS-XXL"])
        self.assertGreater(SizeProfile.objects.count(), 0)
        self.assertGreater(Holding.objects.count(), 0)
        counts = (StockMove.objects.count(), Holding.objects.count(), SizeProfile.objects.count())
        again = build_catalogue_demo()
        self.assertEqual(sum(again.values()), 0)
        self.assertEqual((StockMove.objects.count(), Holding.objects.count(), SizeProfile.objects.count()), counts)
