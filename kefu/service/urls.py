from django.urls import path

from kefu.service import views, views_evidence, views_kpis, views_surveys

app_name = "service"

urlpatterns: list = []

# Interactions, their import and the SLA clock (issue 3 items 1-3).
urlpatterns += [
    path("interactions/", views.interaction_list, name="interaction_list"),
    path("interactions/<int:pk>/", views.interaction_detail, name="interaction_detail"),
    path("interactions/import/", views.import_upload, name="import_upload"),
    path("interactions/import/template.xlsx", views.import_template, name="import_template"),
    path("interactions/import/<int:pk>/", views.import_batch, name="import_batch"),
    path("interactions/import/<int:pk>/problems.csv", views.import_errors, name="import_errors"),
]

# Surveys, KPIs and evaluation evidence (issue 3 items 4-6).
urlpatterns += [
    path("survey/<str:token>/", views_surveys.survey_answer, name="survey_answer"),
    path("interactions/<int:pk>/survey/", views_surveys.survey_issue, name="survey_issue"),
    path("surveys/import/", views_surveys.survey_import, name="survey_import"),
    path("surveys/import/template.xlsx", views_surveys.survey_import_template, name="survey_import_template"),
    path("kpis/", views_kpis.kpi_mine, name="kpi_mine"),
    path("kpis/team/", views_kpis.kpi_team, name="kpi_team"),
    path("kpis/team/export.xlsx", views_kpis.kpi_team_export, name="kpi_team_export"),
    path("kpis/agents/<str:employee_no>/", views_kpis.kpi_agent, name="kpi_agent"),
    path("evidence/", views_evidence.evidence_index, name="evidence_index"),
    path("evidence/<str:employee_no>/", views_evidence.evidence_page, name="evidence"),
    path("evidence/<str:employee_no>/draw/", views_evidence.evidence_draw, name="evidence_draw"),
]
