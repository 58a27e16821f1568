from django.urls import path

from kefu.inspections import views, views_compliance, views_rectification

app_name = "inspections"
urlpatterns = [
    # Plans, inspections, findings, group (views.py)
    path("", views.inspection_list, name="inspection_list"),
    path("new/", views.inspection_new, name="inspection_new"),
    path("<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("<int:pk>/start/", views.inspection_start, name="inspection_start"),
    path("<int:pk>/complete/", views.inspection_complete, name="inspection_complete"),
    path("<int:pk>/sample/", views.sample_draw, name="sample_draw"),
    path("<int:pk>/findings/new/", views.finding_new, name="finding_new"),
    path("<int:pk>/report.pdf", views.inspection_pdf, name="inspection_pdf"),
    path("items/<int:pk>/record/", views.item_record, name="item_record"),
    path("findings/<int:pk>/edit/", views.finding_edit, name="finding_edit"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("group/", views.group, name="group"),
    # Rectification (views_rectification.py)
    path("findings/<int:finding_pk>/rectification/", views_rectification.rectification_new,
         name="rectification_new"),
    path("rectifications/", views_rectification.rectification_dashboard, name="rectification_dashboard"),
    path("rectifications/mine/", views_rectification.rectification_mine, name="rectification_mine"),
    path("rectifications/<int:pk>/", views_rectification.rectification_detail, name="rectification_detail"),
    path("rectifications/<int:pk>/start/", views_rectification.rectification_start, name="rectification_start"),
    path("rectifications/<int:pk>/submit/", views_rectification.rectification_submit, name="rectification_submit"),
    path("rectifications/<int:pk>/verify/", views_rectification.rectification_verify, name="rectification_verify"),
    path("rectifications/<int:pk>/send-back/", views_rectification.rectification_send_back,
         name="rectification_send_back"),
    # Compliance checks (views_compliance.py)
    path("compliance/", views_compliance.compliance_dashboard, name="compliance_dashboard"),
    path("compliance/run/", views_compliance.compliance_run_now, name="compliance_run_now"),
    path("compliance/runs/<int:run_pk>/<slug:check>/", views_compliance.compliance_hits, name="compliance_hits"),
    path("compliance/hits/<int:pk>/attach/", views_compliance.compliance_attach, name="compliance_attach"),
]
