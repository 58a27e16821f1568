from django.shortcuts import render

from kefu.core import access
from kefu.people.models import Employee


def employee_list(request):
    employees = access.visible(request.user, Employee).select_related("org_unit")[:200]
    return render(request, "people/employee_list.html", {"employees": employees})
