"""Guideline panel composition: the plan's optional ``[panel]`` section (the letter's first
recommendation, balanced authorship; domain brief F3.10).

.. code-block:: toml

    [panel]
    roles = ["methodologist", "clinician_performing", "patient_partner"]   # optional; the default

    [[panel.members]]
    name = "A. Author"
    role = "methodologist"
    conflicts = "none declared"          # declared conflicts of interest, as text (required)
    specialty = "epidemiology"           # optional

``roles`` lists the roles the panel should include; the report notes every role with no member.
Roles come from :data:`ROLES`. Every problem is reported in one
:class:`~netstrata.errors.DataError` naming the plan file, the key and what was expected.

References
----------
Busse JW et al. BMJ 2025;388:e079970 (panel of patients, clinicians and methodologists).
Schünemann HJ et al. Guidelines International Network: toward international standards for clinical
practice guidelines. Ann Intern Med 2012;156:525-31. doi:10.7326/0003-4819-156-7-201204030-00009
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..errors import DataError, Problem, closest

__all__ = ["ROLES", "DEFAULT_ROLES", "PanelMember", "Panel", "parse_panel"]

#: role code -> label
ROLES = {
    "methodologist": "Methodologist",
    "clinician_performing": "Clinician who performs the procedure",
    "clinician_other": "Clinician who does not perform the procedure",
    "patient_partner": "Patient partner",
    "other": "Other",
}
DEFAULT_ROLES = ("methodologist", "clinician_performing", "patient_partner")
_KEYS = ("roles", "members")
_MEMBER_KEYS = ("name", "role", "conflicts", "specialty")


@dataclass(frozen=True, slots=True)
class PanelMember:
    name: str
    role: str
    conflicts: str
    specialty: str = ""


@dataclass(frozen=True, slots=True)
class Panel:
    """Members and the roles the panel should include; ``missing_roles`` have no member."""

    members: tuple[PanelMember, ...]
    roles: tuple[str, ...] = DEFAULT_ROLES

    @property
    def missing_roles(self) -> tuple[str, ...]:
        present = {m.role for m in self.members}
        return tuple(r for r in self.roles if r not in present)

    def counts(self) -> dict[str, int]:
        out = {r: 0 for r in ROLES}
        for m in self.members:
            out[m.role] += 1
        return {r: n for r, n in out.items() if n or r in self.roles}

    def to_dict(self) -> dict:
        return {"members": [{"name": m.name, "role": m.role, "role_label": ROLES[m.role], "conflicts": m.conflicts,
                             "specialty": m.specialty} for m in self.members],
                "roles": list(self.roles), "missing_roles": list(self.missing_roles), "counts": self.counts(),
                "role_labels": dict(ROLES)}


def _role(value, where: str, file: str, problems: list) -> str | None:
    if isinstance(value, str) and value in ROLES:
        return value
    hint = closest(str(value), tuple(ROLES)) if isinstance(value, str) else None
    problems.append(Problem("unknown panel role", file=file, column=where, found=value,
                            expected="one of " + ", ".join(ROLES), hint=f"did you mean {hint!r}?" if hint else None))
    return None


def _text(member: Mapping, key: str, where: str, file: str, problems: list, required: bool) -> str:
    value = member.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(Problem("expected text" if value is not None else "required key is missing", file=file,
                                column=f"{where}.{key}", found=value,
                                expected="text" + (" (write 'none declared' when there are none)"
                                                   if key == "conflicts" else "")))
        return ""
    return value.strip()


def _unknown(table: Mapping, allowed, where: str, file: str, problems: list) -> None:
    for k in table:
        if k not in allowed:
            hint = closest(str(k), allowed)
            problems.append(Problem("unknown key", file=file, column=f"{where}.{k}", found=k,
                                    expected="one of " + ", ".join(allowed),
                                    hint=f"did you mean {hint!r}?" if hint else None))


def parse_panel(section: Mapping | None, file: str = "netstrata.toml") -> Panel | None:
    """The plan's ``[panel]`` section as a :class:`Panel` (None when the plan has none).

    Raises
    ------
    DataError
        Unknown keys, unknown roles, members without a name or without declared conflicts.
    """
    if section is None:
        return None
    problems: list[Problem] = []
    _unknown(section, _KEYS, "panel", file, problems)
    roles_raw = section.get("roles", list(DEFAULT_ROLES))
    if not isinstance(roles_raw, (list, tuple)):
        problems.append(Problem("expected a list of roles", file=file, column="panel.roles", found=roles_raw,
                                expected="e.g. [\"methodologist\", \"patient_partner\"]"))
        roles_raw = []
    roles = tuple(r for i, r in enumerate(roles_raw) if _role(r, f"panel.roles[{i + 1}]", file, problems))
    members_raw = section.get("members", [])
    if not isinstance(members_raw, (list, tuple)):
        problems.append(Problem("expected [[panel.members]] tables", file=file, column="panel.members",
                                found=members_raw, expected="a list of tables with name, role, conflicts"))
        members_raw = []
    members = []
    for i, m in enumerate(members_raw):
        where = f"panel.members[{i + 1}]"
        if not isinstance(m, Mapping):
            problems.append(Problem("expected a table", file=file, column=where, found=m,
                                    expected="name, role, conflicts"))
            continue
        _unknown(m, _MEMBER_KEYS, where, file, problems)
        name = _text(m, "name", where, file, problems, True)
        role = _role(m.get("role"), f"{where}.role", file, problems)
        conflicts = _text(m, "conflicts", where, file, problems, True)
        members.append(PanelMember(name, role or "other", conflicts, _text(m, "specialty", where, file, problems, False)))
    if problems:
        raise DataError(problems)
    return Panel(tuple(members), tuple(dict.fromkeys(roles)))
