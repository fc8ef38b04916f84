"""The values each choice accepts, as StrEnums built from the table that gives them meaning, so
that REST's types, the Gradio dropdowns and the service's checks list the same values."""

from __future__ import annotations

from enum import StrEnum

from core.ai.reconstructors import MODELS
from core.avatars.custom import GENDERS
from core.errors import InputError
from core.fitting.placement import EASE
from core.garment.registry import CATEGORIES
from core.mesh.importer import UNITS, UPS
from core.quality import QUALITY

AUTO = "auto"


def _enum(name: str, values: tuple[str, ...] | list[str]) -> type[StrEnum]:
    return StrEnum(name, {v.upper().replace("+", "PLUS_").replace("-", "MINUS_"): v for v in values})


Category = _enum("Category", [AUTO, *CATEGORIES])  # auto: the parse guesses it
Model = _enum("Model", MODELS)
Quality = _enum("Quality", list(QUALITY))
Ease = _enum("Ease", list(EASE))
Gender = _enum("Gender", list(GENDERS))
Units = _enum("Units", [AUTO, *UNITS])  # of an imported 3D file
Up = _enum("Up", list(UPS))


def values(choices: type[StrEnum]) -> list[str]:
    """The plain strings of a choice, in order (what a dropdown lists)."""
    return [c.value for c in choices]


def pick(choices: type[StrEnum], value: str, what: str) -> str:
    """`value` as one of `choices`, or an InputError that lists them."""
    try:
        return choices(value).value
    except ValueError:
        raise InputError(f"Unknown {what} {value!r}; choose one of: {', '.join(values(choices))}.") from None
