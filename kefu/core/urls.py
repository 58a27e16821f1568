from django.urls import path

from kefu.core import views

app_name = "core"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
]
