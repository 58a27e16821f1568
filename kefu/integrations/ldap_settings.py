"""Directory login settings from environment variables (read by kefu/settings.py when KEFU_LDAP_URI is set).

No Django models here: settings import this module.

KEFU_LDAP_URI                 ldap://dc1.example.com or ldaps://…; unset: no directory login
KEFU_LDAP_BIND_DN             the service account that searches (empty: anonymous)
KEFU_LDAP_BIND_PASSWORD       its password
KEFU_LDAP_START_TLS           true: StartTLS on an ldap:// URI
KEFU_LDAP_USER_SEARCH_BASE    e.g. ou=people,dc=example,dc=com
KEFU_LDAP_USER_FILTER         default (uid=%(user)s); Active Directory: (sAMAccountName=%(user)s)
KEFU_LDAP_GROUP_SEARCH_BASE   e.g. ou=groups,dc=example,dc=com
KEFU_LDAP_GROUP_TYPE          groupOfNames (default), groupOfUniqueNames, posixGroup, activeDirectory
KEFU_LDAP_ROLE_MAP            JSON: group DN → [role, org unit code] (or a list of such pairs)
KEFU_LDAP_EMPLOYEE_MATCH      employee_no (default) or email: how a login finds its Employee
KEFU_LDAP_EMPLOYEE_ATTR       the directory attribute holding it (default employeeNumber / mail)
KEFU_LDAP_TIMEOUT_SECONDS     network timeout (default 5)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

BACKEND = "kefu.integrations.directory.KefuLDAPBackend"
ROLE_VALUES = {"agent", "team_lead", "cs_supervisor", "dept_head", "admin_staff", "hr", "leadership", "inspector",
               "sysadmin"}


def parse_role_map(text: str) -> dict[str, list[tuple[str, str]]]:
    """{"cn=kefu-hr,ou=groups,…": ["hr", "HR"]} or {…: [["hr", "HR"], ["inspector", "CO"]]} →
    {lower-cased group DN: [(role, unit code), …]}. Raises ValueError on a malformed map."""
    raw = json.loads(text or "{}")
    if not isinstance(raw, dict):
        raise ValueError("KEFU_LDAP_ROLE_MAP must be a JSON object")
    out: dict[str, list[tuple[str, str]]] = {}
    for dn, value in raw.items():
        pairs = value if value and isinstance(value[0], list) else [value]
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise ValueError(f"KEFU_LDAP_ROLE_MAP: {dn!r} must map to [role, org unit code]")
            if pair[0] not in ROLE_VALUES:
                raise ValueError(f"KEFU_LDAP_ROLE_MAP: {pair[0]!r} is not a Kefu role")
            out.setdefault(dn.strip().lower(), []).append((pair[0], pair[1]))
    return out


def ldap_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The AUTH_LDAP_* (django-auth-ldap) and KEFU_LDAP_* settings for ``env``."""
    import ldap
    from django_auth_ldap import config

    group_types = {
        "groupofnames": config.GroupOfNamesType,
        "groupofuniquenames": config.GroupOfUniqueNamesType,
        "posixgroup": config.PosixGroupType,
        "activedirectory": config.NestedActiveDirectoryGroupType,
    }
    group_type = env.get("KEFU_LDAP_GROUP_TYPE", "groupOfNames").replace("_", "").lower()
    if group_type not in group_types:
        raise ValueError(f"KEFU_LDAP_GROUP_TYPE: unknown type {env.get('KEFU_LDAP_GROUP_TYPE')!r}")
    match = env.get("KEFU_LDAP_EMPLOYEE_MATCH", "employee_no")
    if match not in {"employee_no", "email"}:
        raise ValueError("KEFU_LDAP_EMPLOYEE_MATCH must be employee_no or email")
    timeout = float(env.get("KEFU_LDAP_TIMEOUT_SECONDS", "5"))
    out: dict[str, Any] = {
        "AUTH_LDAP_SERVER_URI": env["KEFU_LDAP_URI"],
        "AUTH_LDAP_BIND_DN": env.get("KEFU_LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": env.get("KEFU_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": env.get("KEFU_LDAP_START_TLS", "").lower() in {"1", "true", "yes", "on"},
        "AUTH_LDAP_USER_SEARCH": config.LDAPSearch(
            env.get("KEFU_LDAP_USER_SEARCH_BASE", ""), ldap.SCOPE_SUBTREE,
            env.get("KEFU_LDAP_USER_FILTER", "(uid=%(user)s)"),
        ),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: timeout, ldap.OPT_TIMEOUT: timeout,
                                         ldap.OPT_REFERRALS: 0},
        "KEFU_LDAP_ROLE_MAP": parse_role_map(env.get("KEFU_LDAP_ROLE_MAP", "")),
        "KEFU_LDAP_EMPLOYEE_MATCH": match,
        "KEFU_LDAP_EMPLOYEE_ATTR": env.get("KEFU_LDAP_EMPLOYEE_ATTR")
        or ("employeeNumber" if match == "employee_no" else "mail"),
    }
    if env.get("KEFU_LDAP_GROUP_SEARCH_BASE"):
        out["AUTH_LDAP_GROUP_SEARCH"] = config.LDAPSearch(
            env["KEFU_LDAP_GROUP_SEARCH_BASE"], ldap.SCOPE_SUBTREE, "(objectClass=*)")
        out["AUTH_LDAP_GROUP_TYPE"] = group_types[group_type]()
    return out
