from django.urls import path

from kefu.evaluations import views

app_name = "evaluations"

# Weekly evaluations, the monthly flow, appeals, scorecards (issue 4 items 1, 2, 4, 6).
urlpatterns = [
    path("", views.mine, name="mine"),
    path("weekly/board/", views.weekly_board, name="weekly_board"),
    path("weekly/start/", views.weekly_start, name="weekly_start"),
    path("weekly/<int:pk>/", views.weekly_detail, name="weekly_detail"),
    path("weekly/<int:pk>/edit/", views.weekly_edit, name="weekly_edit"),
    path("weekly/<int:pk>/evidence/add/", views.weekly_evidence_add, name="weekly_evidence_add"),
    path("weekly/<int:pk>/evidence/remove/", views.weekly_evidence_remove, name="weekly_evidence_remove"),
    path("weekly/<int:pk>/evidence/draw/", views.weekly_evidence_draw, name="weekly_evidence_draw"),
    path("weekly/<int:pk>/attach/", views.weekly_attach, name="weekly_attach"),
    path("weekly/<int:pk>/acknowledge/", views.weekly_acknowledge, name="weekly_acknowledge"),
    path("weekly/<int:pk>/comment/", views.weekly_comment, name="weekly_comment"),
    path("weekly/<int:pk>/reopen/", views.weekly_reopen, name="weekly_reopen"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("monthly/<int:pk>/", views.monthly_detail, name="monthly_detail"),
    path("monthly/<int:pk>/acknowledge/", views.monthly_acknowledge, name="monthly_acknowledge"),
    path("monthly/<int:pk>/appeal/", views.monthly_appeal, name="monthly_appeal"),
    path("monthly/<int:pk>/reopen/", views.monthly_reopen, name="monthly_reopen"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<int:pk>/", views.appeal_decide, name="appeal_decide"),
    path("scorecards/", views.scorecards, name="scorecards"),
    path("scorecards/<int:pk>/", views.scorecard_detail, name="scorecard_detail"),
    path("scorecards/<int:pk>/edit/", views.scorecard_edit, name="scorecard_edit"),
]

# Monthly drafts and boards, exports, the printable sheet, calibration (4b) — below this line.
from kefu.evaluations import views_calibration, views_monthly  # noqa: E402

urlpatterns += [
    path("monthly/board/", views_monthly.monthly_board, name="monthly_board"),
    path("monthly/board/export.xlsx", views_monthly.monthly_export, name="monthly_export"),
    path("monthly/drafts/make/", views_monthly.monthly_drafts_make, name="monthly_drafts_make"),
    path("monthly/<int:pk>/edit/", views_monthly.monthly_edit, name="monthly_edit"),
    path("monthly/<int:pk>/sheet.pdf", views_monthly.monthly_pdf, name="monthly_pdf"),
    path("calibration/", views_calibration.calibration_list, name="calibration_list"),
    path("calibration/new/", views_calibration.calibration_create, name="calibration_create"),
    path("calibration/<int:pk>/", views_calibration.calibration_detail, name="calibration_detail"),
    path("calibration/<int:pk>/score/", views_calibration.calibration_score, name="calibration_score"),
    path("calibration/<int:pk>/close/", views_calibration.calibration_close, name="calibration_close"),
    path("calibration/<int:pk>/results/", views_calibration.calibration_results, name="calibration_results"),
]
