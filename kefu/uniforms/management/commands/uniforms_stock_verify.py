"""Check that every stock level equals the sum of its ledger moves (exit 1 and list them if not)."""

from django.core.management.base import BaseCommand, CommandError

from kefu.uniforms.stock import stock_level_mismatches


class Command(BaseCommand):
    help = "Verify that each uniform stock level equals the sum of its stock moves."

    def handle(self, *args, **options) -> None:
        rows = stock_level_mismatches()
        if not rows:
            self.stdout.write(self.style.SUCCESS("Stock levels match the ledger."))
            return
        for row in rows:
            self.stderr.write(f"{row['sku__code']} @ {row['location__code']}: level {row['on_hand']}, "
                              f"moves add up to {row['moved']}")
        raise CommandError(f"{len(rows)} stock levels differ from the ledger.")
