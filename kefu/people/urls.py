from django.urls import path

from kefu.people import views

app_name = "people"
urlpatterns = [
    path("", views.employee_list, name="employee_list"),
    path("employees/export.xlsx", views.employee_export, name="employee_export"),
    path("employees/new/", views.employee_create, name="employee_create"),
    path("employees/import/", views.employee_import, name="employee_import"),
    path("employees/import/template.xlsx", views.employee_import_template, name="employee_import_template"),
    path("employees/<str:employee_no>/", views.employee_detail, name="employee_detail"),
    path("employees/<str:employee_no>/edit/", views.employee_edit, name="employee_edit"),
    path("employees/<str:employee_no>/onboard/", views.employee_onboard, name="employee_onboard"),
    path("employees/<str:employee_no>/offboard/", views.employee_offboard, name="employee_offboard"),
    path("units/", views.org_units, name="org_units"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("roles/", views.roles, name="roles"),
    path("roles/<int:pk>/end/", views.role_end, name="role_end"),
]
