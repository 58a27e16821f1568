"""Request and response shapes of the API. Dates are ISO 8601 (YYYY-MM-DD)."""


import datetime
from enum import Enum
from typing import Annotated

from ninja import Field, Schema
from pydantic import WithJsonSchema

from kefu.people.models import Employee, OrgUnit


def named_enum(choices: type[Enum], name: str) -> WithJsonSchema:
    """A model's choices under a name of its own in the OpenAPI document, for ``Annotated[Choices,
    named_enum(Choices, "Name")]``. Several models call their choices ``Kind`` or ``Status``; under
    that one shared name, the schema's last-defined ``Kind`` described every other (the fuzzing test
    found an org unit's kind checked against a supplier certificate's kinds)."""
    return WithJsonSchema({"title": name, "type": "string", "enum": [c.value for c in choices]})


OrgUnitKind = Annotated[OrgUnit.Kind, named_enum(OrgUnit.Kind, "OrgUnitKind")]
EmployeeGender = Annotated[Employee.Gender, named_enum(Employee.Gender, "EmployeeGender")]
EmployeeStatus = Annotated[Employee.Status, named_enum(Employee.Status, "EmployeeStatus")]


class FieldError(Schema):
    field: str | None = Field(description="The input field at fault; null when the error is about the whole request.")
    message: str


class ValidationErrorOut(Schema):
    detail: list[FieldError]


class ErrorOut(Schema):
    detail: str


class OrgUnitOut(Schema):
    code: str
    name: str
    kind: OrgUnitKind
    parent: str | None = Field(description="Code of the parent unit; null for the company.")
    is_customer_service: bool
    active: bool

    @staticmethod
    def resolve_parent(obj: OrgUnit) -> str | None:
        return obj.parent.code if obj.parent_id and obj.parent else None


class OrgUnitIn(Schema):
    code: str
    name: str
    kind: OrgUnitKind
    parent: str = Field(description="Code of the parent unit, which must lie within your scope.")
    is_customer_service: bool = False
    reason: str = ""


class OrgUnitPatch(Schema):
    code: str | None = None
    name: str | None = None
    kind: OrgUnitKind | None = None
    parent: str | None = Field(None, description="Code of the new parent unit, within your scope.")
    is_customer_service: bool | None = None
    active: bool | None = None
    reason: str = ""


class EmployeeOut(Schema):
    employee_no: str
    name: str
    gender: EmployeeGender
    hire_date: datetime.date
    leave_date: datetime.date | None
    status: EmployeeStatus
    org_unit: str = Field(description="Code of the employee's org unit.")
    position: str
    email: str
    phone: str

    @staticmethod
    def resolve_org_unit(obj: Employee) -> str:
        return obj.org_unit.code


class EmployeeIn(Schema):
    employee_no: str
    name: str
    gender: EmployeeGender
    hire_date: datetime.date
    org_unit: str = Field(description="Code of the org unit, which must lie within your scope.")
    position: str = ""
    email: str = ""
    phone: str = ""
    reason: str = ""


class EmployeePut(Schema):
    """The whole record as the HR system has it; status moves only by onboard / offboard."""

    employee_no: str | None = Field(None, description="Optional; if given it must equal the one in the path.")
    name: str
    gender: EmployeeGender
    hire_date: datetime.date
    org_unit: str = Field(description="Code of the org unit, which must lie within your scope.")
    position: str = ""
    email: str = ""
    phone: str = ""
    reason: str = ""


class EmployeePatch(Schema):
    name: str | None = None
    gender: EmployeeGender | None = None
    hire_date: datetime.date | None = None
    org_unit: str | None = Field(None, description="Code of the new org unit, within your scope.")
    position: str | None = None
    email: str | None = None
    phone: str | None = None
    reason: str = ""


class OnboardIn(Schema):
    on: datetime.date | None = Field(None, description="The first working day; today when left out.")


class OffboardIn(Schema):
    leave_date: datetime.date
    reason: str = ""
