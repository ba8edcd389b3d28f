"""Load a city's reference data from a YAML or JSON file, shipped or on disk."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from domain.reference import CityData, CityDataError, build_city

_PACKAGE = "infra.cities"
_SUFFIXES = (".yaml", ".yml", ".json")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def available_cities() -> tuple[str, ...]:
    """Names of the city data files shipped in the package, sorted."""
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in resources.files(_PACKAGE).iterdir()
            if entry.is_file() and entry.name.endswith(".yaml")
        )
    )


def load_city(name_or_path: str) -> CityData:
    """Load a city by shipped name (``kumamoto``) or by path to a .yaml/.yml/.json file."""
    file_name, raw = _load(name_or_path)
    try:
        return build_city(raw)
    except CityDataError as exc:
        raise CityDataError(f"{file_name}: {exc}") from exc


def load_city_raw(name_or_path: str) -> dict[str, Any]:
    """The parsed, unvalidated contents of a city data file, for tools and tests."""
    return _load(name_or_path)[1]


def _load(name_or_path: str) -> tuple[str, dict[str, Any]]:
    path = Path(name_or_path)
    if path.suffix.lower() in _SUFFIXES:
        if not path.is_file():
            raise CityDataError(
                f"{name_or_path}: no such city data file; shipped cities: {_available_text()}"
            )
        text = path.read_text(encoding="utf-8")
        return path.name, _read(path.name, text, json_=path.suffix.lower() == ".json")
    # Only bare names are looked up in the package, so "../x" cannot reach outside it.
    shipped = resources.files(_PACKAGE).joinpath(f"{name_or_path}.yaml")
    if not _NAME.fullmatch(name_or_path) or not shipped.is_file():
        raise CityDataError(f"no city data named {name_or_path!r}; available: {_available_text()}")
    return shipped.name, _read(shipped.name, shipped.read_text(encoding="utf-8"), json_=False)


def _available_text() -> str:
    return ", ".join(available_cities()) or "(none)"


def _read(file_name: str, text: str, *, json_: bool) -> dict[str, Any]:
    try:
        raw = json.loads(text) if json_ else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise CityDataError(f"{file_name}: not valid {'JSON' if json_ else 'YAML'}: {exc}") from exc
    if not isinstance(raw, dict):
        raise CityDataError(f"{file_name}: expected a mapping at the top level")
    return raw
