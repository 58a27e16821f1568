from django.urls import path

from kefu.people import views

app_name = "people"
urlpatterns = [
    path("", views.employee_list, name="employee_list"),
]
