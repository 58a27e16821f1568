"""Registries that later apps add to: navigation, workbench to-dos.

An app registers in its ``AppConfig.ready()``:

    nav.register(NavItem("uniforms:stock", _("Stock"), roles={Role.ADMIN_STAFF}, order=40))
    workbench.register(my_todos)   # my_todos(user) -> list[Todo]
"""

from __future__ import annotations

import datetime
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


nav = _Nav()
workbench = _Workbench()


def _no_roles(user) -> set[str]:
    return set()


# The people app installs the real lookup in its ready(); core does not import people.
roles_of: Callable[[Any], set[str]] = _no_roles


def set_roles_source(source: Callable[[Any], set[str]]) -> None:
    global roles_of
    roles_of = source
