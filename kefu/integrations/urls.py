from django.urls import path

from kefu.integrations import views, views_payroll

app_name = "integrations"

urlpatterns = [
    path("chat-bots/", views.hooks, name="hooks"),
    path("chat-bots/<int:pk>/", views.hook_edit, name="hook_edit"),
    path("chat-bots/<int:pk>/delete/", views.hook_delete, name="hook_delete"),
    path("chat-bots/templates/", views.template_save, name="template_save"),
    path("chat-bots/deliveries/", views.deliveries, name="deliveries"),
    path("hr-sync/", views.hr_sync_runs, name="hr_sync_runs"),
    path("hr-sync/<int:pk>/", views.hr_sync_run, name="hr_sync_run"),
    path("payroll/", views_payroll.payroll_page, name="payroll"),
    path("payroll/<str:month>/<str:fmt>/", views_payroll.payroll_download, name="payroll_download"),
]
