from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance import AIGeneration, classify_source_type, normalize_source_type, source_type_uri
from provenance.labels import SOURCE_TYPES, classify_actions
from provenance.model import Action

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@pytest.mark.parametrize(
    "value",
    [
        IPTC + "trainedAlgorithmicMedia",
        "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
        "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
        "https://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
    ],
)
def test_fully_generated_forms(value: str) -> None:
    assert classify_source_type(value, inception=True) is AIGeneration.FULLY


@pytest.mark.parametrize(
    ("name", "inception", "expected"),
    [
        ("compositeWithTrainedAlgorithmicMedia", True, AIGeneration.PARTLY),
        ("compositeSynthetic", True, AIGeneration.PARTLY),
        ("trainedAlgorithmicMedia", False, AIGeneration.PARTLY),  # a later GenAI edit
        ("composite", True, AIGeneration.POSSIBLY),
        ("digitalArt", False, AIGeneration.POSSIBLY),
        ("digitalCapture", True, AIGeneration.NO),
        ("computationalCapture", True, AIGeneration.NO),
        ("digitalCreation", True, AIGeneration.NO),
        ("screenCapture", True, AIGeneration.NO),
        ("algorithmicMedia", True, AIGeneration.NO),  # procedural, not generative AI
        ("empty", True, AIGeneration.UNKNOWN),  # a blank canvas says nothing about AI
    ],
)
def test_rubric_classes(name: str, inception: bool, expected: AIGeneration) -> None:
    assert classify_source_type(source_type_uri(name), inception=inception) is expected


@pytest.mark.parametrize(
    "value",
    [
        IPTC + "trainedAlgorithmicMediaX",
        IPTC + "TrainedAlgorithmicMedia",
        "http://example.com/trainedAlgorithmicMedia",
        "http://c2pa.org/digitalsourcetype/trainedAlgorithmicMedia",  # wrong namespace
        IPTC + "trainedAlgorithmicData",  # lives under c2pa.org, not IPTC
        "",
        None,
        42,
    ],
)
def test_only_exact_uris_match(value: object) -> None:
    assert normalize_source_type(value) is None
    assert classify_source_type(value, inception=True) is AIGeneration.UNKNOWN


@given(st.text())
def test_arbitrary_text_is_never_ai_unless_exact(value: str) -> None:
    got = classify_source_type(value, inception=True)
    if got is not AIGeneration.UNKNOWN:
        assert normalize_source_type(value) in SOURCE_TYPES


def test_uri_round_trip() -> None:
    for name in SOURCE_TYPES:
        assert normalize_source_type(source_type_uri(name)) == name


def test_non_editorial_actions_give_no_signal() -> None:
    acts = [Action("c2pa.transcoded", digital_source_type=IPTC + "trainedAlgorithmicMedia")]
    assert classify_actions(acts)[0] is AIGeneration.UNKNOWN


def test_strongest_action_wins() -> None:
    acts = [
        Action("c2pa.created", digital_source_type=IPTC + "digitalCapture"),
        Action("c2pa.edited", digital_source_type=IPTC + "compositeWithTrainedAlgorithmicMedia"),
    ]
    ai, why = classify_actions(acts)
    assert ai is AIGeneration.PARTLY
    assert "compositeWithTrainedAlgorithmicMedia" in why
