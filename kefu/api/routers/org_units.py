"""Org units: the company → department → team tree."""


from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.api.common import caller, changeable_unit, require_people_editor
from kefu.api.schemas import ErrorOut, OrgUnitIn, OrgUnitOut, OrgUnitPatch, ValidationErrorOut
from kefu.core import access
from kefu.people import services as people
from kefu.people.models import OrgUnit

router = Router(tags=["org units"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


@router.get("/org-units", response={200: list[OrgUnitOut], 401: ErrorOut}, summary="List the org units you can see")
def orgunit_list(request: HttpRequest):
    return access.visible(caller(request), OrgUnit).select_related("parent").order_by("path")


@router.get("/org-units/{code}", response={200: OrgUnitOut} | ERRORS, summary="One org unit")
def orgunit_detail(request: HttpRequest, code: str):
    return access.get_for_view(caller(request), OrgUnit.objects.select_related("parent"), code=code)


@router.post("/org-units", response={201: OrgUnitOut} | ERRORS, summary="Create an org unit (HR, system admin)")
def orgunit_create(request: HttpRequest, payload: OrgUnitIn):
    user = caller(request)
    require_people_editor(user)
    parent = changeable_unit(user, payload.parent, field="parent")
    unit = people.orgunit_create(
        actor=user, code=payload.code, name=payload.name, kind=payload.kind, parent=parent,
        is_customer_service=payload.is_customer_service,
    )
    return Status(201, unit)


@router.patch("/org-units/{code}", response={200: OrgUnitOut} | ERRORS,
              summary="Change an org unit (HR, system admin, within scope)")
def orgunit_update(request: HttpRequest, code: str, payload: OrgUnitPatch):
    user = caller(request)
    unit = access.get_for_change(user, OrgUnit.objects.select_related("parent"), code=code)
    changes = payload.model_dump(exclude_unset=True)
    reason = changes.pop("reason", "")
    for key in ("code", "name", "kind", "is_customer_service", "active"):
        if key in changes and changes[key] is None:
            raise ValidationError({key: _("This field cannot be null.")})
    if "parent" in changes:
        if changes["parent"] is None:
            if unit.parent_id is not None:
                # Lifting a unit to the top would take it out of everyone's scope.
                raise ValidationError({"parent": _("Choose a parent unit within your scope.")})
        else:
            changes["parent"] = changeable_unit(user, changes["parent"], field="parent")
    unit = people.orgunit_update(actor=user, unit=unit, reason=reason, **changes)
    return OrgUnit.objects.select_related("parent").get(pk=unit.pk)
