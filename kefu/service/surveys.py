"""Customer-satisfaction surveys (policy E1.1: "customer satisfaction, measured by customer
feedback and surveys"; issue 3 item 4).

Once an interaction is resolved, ``survey_issue`` makes a link for the customer. The link
carries a random token id signed with the site's secret (``django.core.signing``), so it
cannot be guessed or altered; it needs no login and expires after the parameter
``service.survey_valid_days`` in force on the day it was issued. The customer gives
1–5 stars and a comment, once per interaction.

Answers collected by outside survey tools come in through ``survey_answers_import`` —
the same service behind the upload page, ``manage.py import_survey_answers FILE`` and
``POST /api/v1/survey-answers/bulk``: all-or-nothing, every bad row named, upserted by the
interaction's (source, external_id).

A rating belongs to the agent who resolved the interaction (the handling agent when no
resolver is named): ``SurveyAnswer.agent``.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit, policy, tabular
from kefu.core.tabular import ImportRejected, ImportReport
from kefu.service.models import ImportBatch, Interaction, SurveyAnswer, SurveyInvitation

SIGNING_SALT = "kefu.service.survey"
COMMENT_MAX = 2000
# The customer is nobody's login: the audit log names the survey link as the actor.
CUSTOMER = "customer (survey link)"
INVITATION_FIELDS = ["interaction_id", "token_id", "issued_at", "expires_at", "issued_by_id"]
ANSWER_FIELDS = ["interaction_id", "rating", "comment", "answered_at", "source", "agent_id"]


# ---- links ---------------------------------------------------------------------------------------


def survey_token(invitation: SurveyInvitation) -> str:
    return signing.Signer(salt=SIGNING_SALT).sign(invitation.token_id)


def survey_path(invitation: SurveyInvitation) -> str:
    return reverse("service:survey_answer", args=[survey_token(invitation)])


def survey_link(invitation: SurveyInvitation) -> str:
    """The full address to send the customer."""
    return f"{settings.SITE_ROOT.rstrip('/')}{survey_path(invitation)}"


def invitation_for_token(token: str) -> SurveyInvitation | None:
    """The invitation a presented token names, or None for a forged, altered or unknown token."""
    try:
        token_id = signing.Signer(salt=SIGNING_SALT).unsign(str(token or ""))
    except signing.BadSignature:
        return None
    return (
        SurveyInvitation.objects.select_related("interaction", "interaction__agent", "interaction__resolver")
        .filter(token_id=token_id)
        .first()
    )


def rated_agent_id(interaction: Interaction | Any) -> int:
    """E1.1: the rating belongs to the agent who resolved the interaction."""
    return interaction.resolver_id or interaction.agent_id


# ---- issuing and answering -----------------------------------------------------------------------


@transaction.atomic
def survey_issue(*, actor, interaction: Interaction, now: datetime.datetime | None = None) -> SurveyInvitation:
    """The survey link of a resolved interaction: the live one if there is one, else a new one.

    An expired, unanswered link is replaced (the old one stops working); an answered
    interaction gets no second survey.
    """
    now = now or timezone.now()
    interaction = Interaction.objects.select_for_update().get(pk=interaction.pk)
    if interaction.resolved_at is None:
        raise ValidationError({"interaction": _("A survey goes out once the interaction is resolved; this one is not.")})
    if SurveyAnswer.objects.filter(interaction=interaction).exists():
        raise ValidationError({"interaction": _("The customer has already answered the survey of this interaction.")})
    existing = SurveyInvitation.objects.filter(interaction=interaction).first()
    if existing is not None and existing.expires_at > now:
        return existing
    valid_days = policy.get("service.survey_valid_days", on=timezone.localdate(now))
    before = audit.snapshot(existing, INVITATION_FIELDS) if existing else None
    invitation = existing or SurveyInvitation(interaction=interaction)
    invitation.token_id = secrets.token_urlsafe(18)  # 24 characters, 144 random bits
    invitation.issued_at = now
    invitation.expires_at = now + datetime.timedelta(days=valid_days)
    invitation.issued_by = actor if getattr(actor, "is_authenticated", False) else None
    invitation.full_clean()
    invitation.save()
    audit.record(
        actor=actor,
        action="survey.reissue" if existing else "survey.issue",
        obj=invitation,
        changes=audit.diff(before, audit.snapshot(invitation, INVITATION_FIELDS)),
        reason=_("valid for %(days)s days (service.survey_valid_days)") % {"days": valid_days},
    )
    return invitation


class SurveyClosed(ValidationError):
    """The link no longer takes an answer: ``code`` is "expired" or "answered"."""


def _rating(value: Any) -> int:
    """A whole number of stars from 1 to 5 (5, "5", 5.0 and "5.0" are all five)."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        number = value
    else:
        try:
            exact = Decimal(str(value).strip())
        except (InvalidOperation, ValueError) as e:
            raise ValueError from e
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise ValueError
        number = int(exact)
    if not 1 <= number <= 5:
        raise ValueError
    return number


def _rating_message() -> str:
    return _("Give a rating from 1 to 5 stars.")


@transaction.atomic
def survey_answer(
    *, invitation: SurveyInvitation, rating: Any, comment: str = "", now: datetime.datetime | None = None
) -> SurveyAnswer:
    """The customer's answer through her link. One per interaction: a second one is refused."""
    now = now or timezone.now()
    invitation = SurveyInvitation.objects.select_for_update().select_related("interaction").get(pk=invitation.pk)
    if SurveyAnswer.objects.filter(interaction_id=invitation.interaction_id).exists():
        raise SurveyClosed(_("This survey has already been answered. Thank you!"), code="answered")
    if now >= invitation.expires_at:
        raise SurveyClosed(_("This survey link has expired."), code="expired")
    try:
        stars = _rating(rating)
    except ValueError:
        raise ValidationError({"rating": _rating_message()}) from None
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": _("Keep the comment under %(n)s characters.") % {"n": COMMENT_MAX}})
    interaction = invitation.interaction
    answer = SurveyAnswer(
        interaction=interaction, rating=stars, comment=comment, answered_at=now,
        source=SurveyAnswer.Source.LINK, agent_id=rated_agent_id(interaction),
    )
    answer.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError:
        # Another request for the same interaction won the race (a double-click on two servers).
        raise SurveyClosed(_("This survey has already been answered. Thank you!"), code="answered") from None
    audit.record(actor=CUSTOMER, action="survey.answer", obj=answer,
                 changes=audit.diff(None, audit.snapshot(answer, ANSWER_FIELDS)))
    return answer


# ---- importing answers from outside survey tools -------------------------------------------------

ANSWER_COLUMNS: dict[str, list[str]] = {
    "source": ["來源系統", "来源系统", "來源", "来源", "source system"],
    "external_id": ["外部編號", "外部编号", "工單號", "工单号", "external id", "ticket id"],
    "rating": ["評分", "评分", "星級", "星级", "滿意度", "满意度", "stars", "score"],
    "comment": ["評語", "评语", "意見", "意见", "留言", "comments"],
    "answered_at": ["回答時間", "回答时间", "評價時間", "评价时间", "answered", "answer time"],
}
ANSWER_REQUIRED = frozenset({"source", "external_id", "rating"})
CHUNK = 500

def parse_instant(value: Any) -> datetime.datetime:
    """A time from a spreadsheet or JSON, read as the interaction import reads it (``ingest.parse_instant``):
    a time without a zone is company local time (issue 3 item 2). ValueError with a message for the user.
    """
    from kefu.service import ingest

    try:
        parsed = ingest.parse_instant(value, ZoneInfo(settings.TIME_ZONE))
    except ingest.BadValue:
        parsed = None
    if parsed is None:
        raise ValueError(_("“%(value)s” is not a time; write it as YYYY-MM-DD HH:MM (company time) or ISO 8601.")
                         % {"value": tabular.cell_text(value)})
    return parsed


@dataclass
class _Row:
    row: int
    source: str
    external_id: str
    rating: int
    comment: str
    answered_at: datetime.datetime | None


def _clean_rows(items: Iterable[tuple[int, dict[str, Any]]], report: ImportReport) -> list[_Row]:
    rows: list[_Row] = []
    first_seen: dict[tuple[str, str], int] = {}
    for number, values in items:
        report.rows_read += 1
        errors_before = len(report.errors)
        source = tabular.cell_text(values.get("source"))
        external_id = tabular.cell_text(values.get("external_id"))
        if not source:
            report.error(number, "source", _("The source system is missing."))
        if not external_id:
            report.error(number, "external_id", _("The external id is missing."))
        raw_rating = values.get("rating")
        rating = 0
        if raw_rating is None or tabular.cell_text(raw_rating) == "":
            report.error(number, "rating", _("The rating is missing."))
        else:
            try:
                rating = _rating(raw_rating)
            except ValueError:
                report.error(number, "rating", _("“%(value)s” is not a rating: give a whole number from 1 to 5.")
                             % {"value": tabular.cell_text(raw_rating)})
        comment = tabular.cell_text(values.get("comment"))
        if len(comment) > COMMENT_MAX:
            report.error(number, "comment", _("The comment is longer than %(n)s characters.") % {"n": COMMENT_MAX})
        answered_at = None
        if values.get("answered_at") not in (None, ""):
            try:
                answered_at = parse_instant(values["answered_at"])
            except ValueError as e:
                report.error(number, "answered_at", str(e))
        key = (source, external_id)
        if source and external_id:
            if key in first_seen:
                report.error(number, "external_id", _("%(source)s %(id)s appears twice in this file (rows %(first)s "
                                                      "and %(row)s); keep one.")
                             % {"source": source, "id": external_id, "first": first_seen[key], "row": number})
            else:
                first_seen[key] = number
        if len(report.errors) == errors_before:
            rows.append(_Row(number, source, external_id, rating, comment, answered_at))
    return rows


class _Target(NamedTuple):
    pk: int
    resolved_at: datetime.datetime | None
    agent_id: int
    resolver_id: int | None


def _interactions(rows: list[_Row], scope: Q | None) -> dict[tuple[str, str], _Target]:
    found: dict[tuple[str, str], _Target] = {}
    by_source: dict[str, list[str]] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append(r.external_id)
    for source, ids in by_source.items():
        for i in range(0, len(ids), CHUNK):
            qs = Interaction.objects.filter(source=source, external_id__in=ids[i:i + CHUNK]).order_by()
            if scope is not None:
                qs = qs.filter(scope)
            for pk, external_id, resolved_at, agent_id, resolver_id in qs.values_list(
                "pk", "external_id", "resolved_at", "agent_id", "resolver_id"
            ):
                found[source, external_id] = _Target(pk, resolved_at, agent_id, resolver_id)
    return found


def _existing_answers(interaction_ids: list[int], *, lock: bool) -> dict[int, SurveyAnswer]:
    out: dict[int, SurveyAnswer] = {}
    for i in range(0, len(interaction_ids), CHUNK):
        qs = SurveyAnswer.objects.filter(interaction_id__in=interaction_ids[i:i + CHUNK]).order_by()
        if lock:
            qs = qs.select_for_update()
        out.update({a.interaction_id: a for a in qs})
    return out


@transaction.atomic
def survey_answers_import(
    *,
    actor,
    file: Any = None,
    rows: Iterable[dict[str, Any]] | None = None,
    via: str = ImportBatch.Via.UPLOAD,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> ImportReport:
    """Load answers from an outside survey tool: a CSV/XLSX ``file`` or the API's ``rows``.

    Upsert by the interaction's (source, external_id): a new answer is added, a changed one
    updated, an identical one left alone — sending the same file twice changes nothing.
    All-or-nothing: on any bad row ``ImportRejected`` is raised with every problem, row by row
    (file rows as Excel numbers them, header = 1; API rows from 1), and nothing is saved.
    An ``actor`` with a login imports only for interactions in her scope; the command line
    (actor None) for all.
    """
    from kefu.service.access import survey_import_scope

    now = now or timezone.now()
    report = ImportReport(dry_run=dry_run)
    if file is not None:
        table = tabular.read_table(file, columns=ANSWER_COLUMNS, required=ANSWER_REQUIRED)
        items: Iterable[tuple[int, dict[str, Any]]] = iter(table)
        if table.unknown_headers:
            report.warnings.append(_("Columns ignored: %(names)s.") % {"names": "、".join(table.unknown_headers)})
    else:
        items = ((n, dict(values)) for n, values in enumerate(rows or [], start=1))
    cleaned = _clean_rows(items, report)
    if report.rows_read == 0 and not report.errors:
        report.error(None, "", _("There are no answers in it."))
    scope = survey_import_scope(actor) if getattr(actor, "is_authenticated", False) else None
    interactions = _interactions(cleaned, scope)
    existing = _existing_answers([i.pk for i in interactions.values()], lock=not dry_run)

    to_create: list[SurveyAnswer] = []
    to_update: list[SurveyAnswer] = []
    for r in cleaned:
        interaction = interactions.get((r.source, r.external_id))
        if interaction is None:
            report.error(r.row, "external_id", _("There is no interaction %(source)s %(id)s (or it is outside your "
                                                 "scope).") % {"source": r.source, "id": r.external_id})
            continue
        if interaction.resolved_at is None:
            report.error(r.row, "external_id", _("Interaction %(source)s %(id)s is not resolved yet; only resolved "
                                                 "interactions are surveyed.")
                         % {"source": r.source, "id": r.external_id})
            continue
        answered_at = r.answered_at or now
        if answered_at < interaction.resolved_at:
            report.error(r.row, "answered_at", _("The answer is dated before the interaction was resolved."))
            continue
        if answered_at > now + datetime.timedelta(minutes=5):
            report.error(r.row, "answered_at", _("The answer is dated in the future."))
            continue
        agent_id = rated_agent_id(interaction)
        answer = existing.get(interaction.pk)
        if answer is None:
            to_create.append(SurveyAnswer(
                interaction_id=interaction.pk, rating=r.rating, comment=r.comment, answered_at=answered_at,
                source=SurveyAnswer.Source.API if via == ImportBatch.Via.API else SurveyAnswer.Source.IMPORT,
                agent_id=agent_id,
            ))
            continue
        if r.answered_at is None:
            answered_at = answer.answered_at  # a file without times keeps the recorded one
        if (answer.rating, answer.comment, answer.answered_at, answer.agent_id) == (
            r.rating, r.comment, answered_at, agent_id
        ):
            report.unchanged += 1
            continue
        if answer.source == SurveyAnswer.Source.LINK:
            report.error(r.row, "rating", _("The customer answered %(source)s %(id)s through Kefu's survey link; "
                                            "an imported answer does not replace hers.")
                         % {"source": r.source, "id": r.external_id})
            continue
        answer.rating, answer.comment, answer.answered_at, answer.agent_id = r.rating, r.comment, answered_at, agent_id
        to_update.append(answer)

    if report.errors:
        raise ImportRejected(report)
    report.created, report.updated = len(to_create), len(to_update)
    if dry_run:
        return report
    SurveyAnswer.objects.bulk_create(to_create, batch_size=CHUNK)
    SurveyAnswer.objects.bulk_update(to_update, ["rating", "comment", "answered_at", "agent"], batch_size=CHUNK)
    user = actor if getattr(actor, "is_authenticated", False) else None
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.SURVEY_ANSWERS, via=via, status=ImportBatch.Status.DONE,
        file_name=(getattr(file, "name", None) or (str(file) if isinstance(file, str) else ""))[:255],
        rows_total=report.rows_read, rows_done=report.rows_read, created_count=report.created,
        updated_count=report.updated, unchanged_count=report.unchanged, warnings=report.warnings,
        created_by=user, started_at=now, finished_at=timezone.now(),
    )
    audit.record(
        actor=actor, action="survey_answers.import", obj=batch,
        changes={"rows": [None, report.rows_read], "created": [None, report.created],
                 "updated": [None, report.updated], "unchanged": [None, report.unchanged]},
        object_repr=_("Survey answers import #%(n)s") % {"n": batch.pk},
    )
    return report


def survey_answers_template() -> bytes:
    """An empty .xlsx with the headers and one example row."""
    return tabular.write_xlsx(
        list(ANSWER_COLUMNS),
        [["HOTLINE", "T-20260302-0001", 5, "很滿意", "2026-03-03 10:15"]],
        sheet_title=_("Survey answers"),
    )
