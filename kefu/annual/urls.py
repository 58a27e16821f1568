from django.urls import path

from kefu.annual import views, views_awards, views_coaching, views_pay, views_reports

app_name = "annual"
urlpatterns = [
    path("", views.cycles, name="cycles"),
    path("mine/", views.mine, name="mine"),
    path("<int:year>/", views.board, name="board"),
    path("<int:year>/transition/", views.transition, name="transition"),
    path("results/<int:pk>/grade/", views.grade, name="grade"),
    path("results/<int:pk>/achievements/", views.achievements, name="achievements"),
    # E3.1 pay proposals and payroll export; appeals of published results (pay.py, appeals.py, views_pay.py)
    path("pay/", views_pay.pay_index, name="pay_index"),
    path("<int:year>/pay/", views_pay.pay, name="pay"),
    path("<int:year>/pay/prepare/", views_pay.pay_prepare, name="pay_prepare"),
    path("<int:year>/pay/import/", views_pay.pay_import, name="pay_import"),
    path("<int:year>/pay/approve/", views_pay.pay_approve, name="pay_approve"),
    path("<int:year>/pay/export/", views_pay.pay_export, name="pay_export"),
    path("pay/<int:pk>/base/", views_pay.pay_base, name="pay_base"),
    path("appeals/", views_pay.appeals, name="appeals"),
    path("results/<int:pk>/appeal/", views_pay.appeal_file, name="appeal_file"),
    path("appeals/<int:pk>/decide/", views_pay.appeal_decide, name="appeal_decide"),
    # E3.2 awards, certificates, promotion list; reports (awards.py, reports.py, views_awards.py, views_reports.py)
    path("reports/distribution/", views_reports.distribution, name="report_distribution"),
    path("reports/distribution.xlsx", views_reports.distribution_export, name="report_distribution_export"),
    path("history/", views_reports.my_history, name="my_history"),
    path("history/<str:employee_no>/", views_reports.history, name="history"),
    path("<int:year>/awards/", views_awards.awards, name="awards"),
    path("<int:year>/awards/nominate/", views_awards.nominate, name="award_nominate"),
    path("awards/<int:pk>/decide/", views_awards.decide, name="award_decide"),
    path("awards/<int:pk>/certificate.pdf", views_awards.certificate, name="award_certificate"),
    path("<int:year>/promotion/", views_awards.promotion, name="promotion"),
    path("<int:year>/promotion.xlsx", views_awards.promotion_export, name="promotion_export"),
    # E3.3 coaching plans, sessions, HR cases (coaching.py, views_coaching.py)
    path("coaching/", views_coaching.coaching_list, name="coaching_list"),
    path("coaching/mine/", views_coaching.coaching_mine, name="coaching_mine"),
    path("coaching/sync/", views_coaching.coaching_sync_now, name="coaching_sync"),
    path("coaching/<int:pk>/", views_coaching.coaching_detail, name="coaching_detail"),
    path("coaching/<int:pk>/activate/", views_coaching.coaching_activate, name="coaching_activate"),
    path("coaching/<int:pk>/sessions/", views_coaching.coaching_session, name="coaching_session"),
    path("coaching/<int:pk>/close/", views_coaching.coaching_close, name="coaching_close"),
    path("coaching/<int:pk>/cancel/", views_coaching.coaching_cancel, name="coaching_cancel"),
    path("coaching/hr-cases/", views_coaching.hr_cases, name="hr_cases"),
    path("coaching/hr-cases/<int:pk>/decide/", views_coaching.hr_case_decide, name="hr_case_decide"),
]
