from django.urls import path

from kefu.core import views, views_audit, views_calendar, views_policy, views_tokens

app_name = "core"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
    path("audit/", views_audit.audit_log, name="audit_log"),
    path("audit/export/", views_audit.audit_export, name="audit_export"),
    path("audit/<int:pk>/", views_audit.audit_entry, name="audit_entry"),
    path("policy/", views_policy.policy_list, name="policy"),
    path("policy/<str:key>/", views_policy.policy_detail, name="policy_detail"),
    path("account/tokens/", views_tokens.api_tokens, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", views_tokens.api_token_revoke, name="api_token_revoke"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("calendar/", views_calendar.calendar_page, name="calendar"),
    path("calendar/days/", views_calendar.calendar_day_set, name="calendar_day_set"),
    path("calendar/days/delete/", views_calendar.calendar_day_delete, name="calendar_day_delete"),
    path("calendar/hours/", views_calendar.calendar_hours_set, name="calendar_hours_set"),
    path("calendar/years/confirm/", views_calendar.calendar_year_confirm, name="calendar_year_confirm"),
]
