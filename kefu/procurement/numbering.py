"""Running numbers: ``PP-2026-00001`` (plans), ``RFQ-``, ``PO-``, ``GR-`` (receipts), ``SI-`` (issues).

One row per prefix and year, locked while a number is taken: concurrent writers never get
the same number, and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from kefu.procurement.models import NumberSequence


def next_number(prefix: str, *, on: datetime.date | None = None, width: int = 5) -> str:
    year = (on or timezone.localdate()).year
    key = f"{prefix}-{year}"
    with transaction.atomic():
        NumberSequence.objects.get_or_create(key=key)
        seq = NumberSequence.objects.select_for_update().get(key=key)
        seq.last += 1
        seq.save(update_fields=["last"])
    return f"{key}-{seq.last:0{width}d}"
