"""Technique registry. Built-ins register on import; a user registers its own with
`register_technique(MyTechnique())` from a plug-in module named in `options.plugins` or from
the job's own module."""

from __future__ import annotations

from ..errors import BadInputError
from .base import Technique

_TECHNIQUES: dict[str, Technique] = {}


def register_technique(technique: Technique, *, replace: bool = False) -> Technique:
    name = getattr(technique, "name", "")
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"a technique needs a name of letters, digits, '-' or '_', got {name!r}")
    if not callable(getattr(technique, "execute", None)) or not callable(getattr(technique, "search", None)):
        raise TypeError(f"technique {name!r} must define search(task, gpus) and execute(task, gpus, knobs, context)")
    if name in _TECHNIQUES and not replace and _TECHNIQUES[name] is not technique:
        raise ValueError(f"a technique named {name!r} is already registered")
    _TECHNIQUES[name] = technique
    return technique


def get_technique(name: str) -> Technique:
    _register_built_ins()
    if name not in _TECHNIQUES:
        raise BadInputError("technique", f"expected one of {', '.join(sorted(_TECHNIQUES))}, got {name!r}")
    return _TECHNIQUES[name]


def registered_names() -> list[str]:
    _register_built_ins()
    return sorted(_TECHNIQUES)


def _register_built_ins() -> None:
    if "ddp" in _TECHNIQUES:
        return
    from .ddp import DdpTechnique
    from .fsdp import FsdpTechnique
    from .pipeline import PipelineTechnique

    for technique in (DdpTechnique(), FsdpTechnique(offload=False), FsdpTechnique(offload=True), PipelineTechnique()):
        _TECHNIQUES.setdefault(technique.name, technique)
