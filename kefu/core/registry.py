"""Registries that later apps add to: navigation, workbench to-dos, who sees the files on a record.

An app registers in its ``AppConfig.ready()``:

    nav.register(NavItem("uniforms:stock", _("Stock"), roles={Role.ADMIN_STAFF}, order=40))
    workbench.register(my_todos)   # my_todos(user) -> list[Todo]
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Any
    roles: frozenset[str] | None = None  # None: every signed-in user
    order: int = 100
    icon: str = ""
    group: Any = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class Todo:
    title: Any
    url: str
    count: int = 1
    due: datetime.date | None = None
    late: bool = False
    kind: Any = ""


@dataclass
class _Nav:
    items: list[NavItem] = field(default_factory=list)

    def register(self, item: NavItem) -> None:
        if all(i.url_name != item.url_name for i in self.items):
            self.items.append(item)

    def for_roles(self, roles: Iterable[str]) -> list[NavItem]:
        held = set(roles)
        return sorted(
            (i for i in self.items if i.roles is None or i.roles & held),
            key=lambda i: (i.order, str(i.url_name)),
        )


TodoProvider = Callable[[Any], list[Todo]]


@dataclass
class _Workbench:
    providers: list[TodoProvider] = field(default_factory=list)

    def register(self, provider: TodoProvider) -> None:
        if provider not in self.providers:
            self.providers.append(provider)

    def todos(self, user) -> list[Todo]:
        items: list[Todo] = []
        for provider in self.providers:
            items.extend(provider(user))
        return sorted(items, key=lambda t: (not t.late, t.due or datetime.date.max, str(t.title)))


DemoStep = Callable[..., dict[str, int]]


@dataclass
class _DemoSteps:
    """Demo data that later apps add after the demo company (``manage.py seed_demo`` runs them in order).

    A step is ``step(*, log)`` returning what it created, ``{label: count}``; it must be idempotent
    (a second run creates nothing and returns zeros). People's ``build_demo`` itself does not run
    them, so tests that only need the company stay fast.
    """

    steps: dict[str, DemoStep] = field(default_factory=dict)

    def register(self, key: str, step: DemoStep) -> None:
        self.steps[key] = step

    def run(self, *, log: Callable[[str], None] | None = None) -> dict[str, int]:
        created: dict[str, int] = {}
        for step in self.steps.values():
            for label, count in step(log=log).items():
                created[label] = created.get(label, 0) + count
        return created


AttachmentRule = Callable[[Any, Any], bool]  # may_see(user, target) -> bool


@dataclass
class _AttachmentTargets:
    """Who may download the files on a record (``core:attachment``): the record's app registers, in its
    ``access.py``, a rule for each model that carries files, reusing its access helper for the record:

        attachment_targets.register(DamageReport, lambda user, report: access.can_see(user, report))

    A target without a rule, or a rule saying no, answers 404, as for any record the user may not see.
    """

    rules: dict[type, AttachmentRule] = field(default_factory=dict)

    def register(self, model: type, may_see: AttachmentRule) -> None:
        self.rules[model] = may_see

    def may_see(self, user, target: Any) -> bool:
        rule = self.rules.get(type(target))
        if rule is None or user is None or not user.is_authenticated or not user.is_active:
            return False
        return bool(rule(user, target))


nav = _Nav()
workbench = _Workbench()
demo_steps = _DemoSteps()
attachment_targets = _AttachmentTargets()


def _no_roles(user) -> set[str]:
    return set()


# The people app installs the real lookup in its ready(); core does not import people.
roles_of: Callable[[Any], set[str]] = _no_roles


def set_roles_source(source: Callable[[Any], set[str]]) -> None:
    global roles_of
    roles_of = source


# --- results stored from the work calendar or the policy parameters --------------------------------
# An app that stores results computed from the calendar or from parameters (the SLA deadlines of
# service) registers a callback in its ready(); core calls it after the change commits, and never
# imports the app. Callbacks should be quick (enqueue a background task for the real work).

CalendarHook = Callable[..., None]  # hook(*, since: date | None, until: date | None) — the dates changed; None: all
PolicyHook = Callable[..., None]  # hook(*, key: str, effective_from: date)

calendar_hooks: list[CalendarHook] = []
policy_hooks: list[PolicyHook] = []


def on_calendar_changed(hook: CalendarHook) -> None:
    if hook not in calendar_hooks:
        calendar_hooks.append(hook)


def on_policy_changed(hook: PolicyHook) -> None:
    if hook not in policy_hooks:
        policy_hooks.append(hook)


def calendar_changed(*, since: datetime.date | None, until: datetime.date | None) -> None:
    """Tell the registered apps, once the transaction commits, that these calendar dates changed."""
    from django.db import transaction

    for hook in list(calendar_hooks):
        transaction.on_commit(functools.partial(hook, since=since, until=until))


def policy_changed(*, key: str, effective_from: datetime.date) -> None:
    """Tell the registered apps, once the transaction commits, that a parameter changed from a date on."""
    from django.db import transaction

    for hook in list(policy_hooks):
        transaction.on_commit(functools.partial(hook, key=key, effective_from=effective_from))
