"""The frozen dataclasses share one __eq__/__hash__/__repr__ (provenance._frozen.Value): it
must behave exactly as the methods ``@dataclass(frozen=True)`` would generate for each class."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from provenance import _c2pa, _certprofile, model, trust
from provenance._frozen import Value


def _dataclasses(module: Any) -> list[type]:
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == module.__name__
    ]


MODEL = _dataclasses(model)
CLASSES = [
    c for m in (model, trust, _c2pa, _certprofile) for c in _dataclasses(m) if issubclass(c, Value)
]


def _twin(cls: type) -> type:
    """The same fields under dataclass's own generated methods."""
    specs = [
        (f.name, Any, dataclasses.field(default=None, repr=f.repr, compare=f.compare, hash=f.hash))
        for f in dataclasses.fields(cls)
    ]
    return dataclasses.make_dataclass(cls.__qualname__, specs, frozen=True)


def _values(cls: type, salt: str) -> dict[str, Any]:
    return {f.name: f"{salt}-{i}" for i, f in enumerate(dataclasses.fields(cls))}


def test_every_result_type_uses_the_shared_methods() -> None:
    assert len(MODEL) >= 14 and len(CLASSES) >= 20
    for cls in MODEL:
        assert issubclass(cls, Value), cls
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_same_semantics_as_dataclass(cls: type) -> None:
    twin = _twin(cls)
    a = _values(cls, "a")
    ours, theirs = cls(**a), twin(**a)
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert ours == cls(**a)
    assert (ours != cls(**a)) is False
    assert ours != theirs  # another class is never equal
    assert ours.__eq__(object()) is NotImplemented
    for f in dataclasses.fields(cls):
        changed = {**a, f.name: "changed"}
        assert (ours == cls(**changed)) is (twin(**a) == twin(**changed)) is (not f.compare)
        assert (hash(ours) == hash(cls(**changed))) is (hash(theirs) == hash(twin(**changed)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours.path = "x"
    assert dataclasses.replace(ours) == ours


def test_report_thumbnail_is_neither_compared_nor_shown() -> None:
    r = model.Report(path="a.mp4", verdict=model.Verdict.TRUSTED, reason="ok")
    with_thumb = dataclasses.replace(r, thumbnail_jpeg=b"\xff\xd8")
    assert r == with_thumb and hash(r) == hash(with_thumb)
    assert "thumbnail_jpeg" not in repr(with_thumb)
    assert repr(r).startswith("Report(path='a.mp4', verdict=")
