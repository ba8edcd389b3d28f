"""What the API shows: figures without float noise."""

from __future__ import annotations

import json

from api.render import RoundedJSONResponse, rounded


def test_figures_are_rounded_to_six_places_however_deep() -> None:
    assert rounded({"a": [7.099999999999999, {"b": 1 / 3}], "n": 3, "s": "7.0999"}) == \
        {"a": [7.1, {"b": 0.333333}], "n": 3, "s": "7.0999"}


def test_json_responses_carry_rounded_figures() -> None:
    body = json.loads(RoundedJSONResponse({"median": 83.40000000000003}).body)
    assert body == {"median": 83.4}
