"""Schema validation of the .docx and .xlsx files e2docs writes, with openxml-audit.

openxml-audit (pure Python) applies the Open XML SDK's checks: package structure, the
ECMA-376 schemas (element order included), semantic rules, and a few "Word/Excel would
repair this" rules of its own. :func:`findings` returns what it reports about a file,
minus the validator's own false positives listed in :data:`FALSE_POSITIVES` — the one
place where a finding may be excused, each by its exact rule, part and element, with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openxml_audit import OpenXmlValidator, ValidationError


@dataclass(frozen=True)
class FalsePositive:
    """A finding of the validator that is wrong, matched exactly.

    ``rule`` is the finding's description as the validator words it, ``part`` the package
    part ("/word/document.xml"), ``node`` the element or attribute named by the finding;
    ``why`` says what ECMA-376 or Word does that shows the finding wrong.
    """

    rule: str
    part: str
    node: str
    why: str

    def matches(self, error: ValidationError) -> bool:
        return (error.description, error.part_uri, error.node or "") == (self.rule, self.part, self.node)


FALSE_POSITIVES: tuple[FalsePositive, ...] = ()
"""None so far: every finding on e2docs' files (openxml-audit 0.8) was ours and has been fixed
(templates built in schema order, without python-docx's stale ``stylesWithEffects`` part).
Add an entry only after checking the rule against ECMA-376 and what Word does with the file."""

_VALIDATOR: OpenXmlValidator | None = None


def _validator() -> OpenXmlValidator:
    """One validator for the session: loading the schemas takes about a second."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = OpenXmlValidator(max_errors=0)  # 0: every finding, errors and warnings
    return _VALIDATOR


def findings(path: str | Path) -> list[str]:
    """The validator's findings on ``path`` (.docx or .xlsx) that are not known false positives,
    one line each: "part element-path [node] (severity): description"; empty when the file is valid."""
    result = _validator().validate(Path(path))
    return [
        f"{e.part_uri} {e.path} [{e.node or ''}] ({e.severity.value}): {e.description}"
        for e in result.errors
        if not any(fp.matches(e) for fp in FALSE_POSITIVES)
    ]
