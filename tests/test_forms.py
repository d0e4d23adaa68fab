import json

import pytest

from core.forms import FormField, key_from_label, validate_answers, validate_definition


def field(**kw):
    base = dict(key="f", label="Label", type="short_text")
    base.update(kw)
    return FormField(**base)


def test_valid_definition_has_no_errors():
    fields = [
        field(key="name", type="short_text", required=True),
        field(key="bio", type="long_text"),
        field(key="email", type="email"),
        field(key="age", type="number", min=18, max=99),
        field(key="team", type="single_choice", options=["A", "B"]),
        field(key="tools", type="multiple_choice", options=["X", "Y", "Z"]),
        field(key="ok", type="consent", required=True),
    ]
    assert validate_definition(fields) == []


@pytest.mark.parametrize("bad, fragment", [
    (field(type="single_choice", options=["A"]), "at least 2 distinct"),
    (field(type="multiple_choice", options=["A", "A"]), "at least 2 distinct"),
    (field(type="single_choice", options=["A", "B", "A"]), "distinct"),
    (field(label="  "), "label is empty"),
    (field(type="rating"), "unknown field type"),
    (field(type="number", min=10, max=1), "minimum is greater"),
    (field(type="short_text", options=["A", "B"]), "only choice fields"),
    (field(type="short_text", min=1), "only number fields"),
])
def test_invalid_definitions_are_named(bad, fragment):
    errors = validate_definition([bad])
    assert errors and fragment in " ".join(errors)


def test_duplicate_keys_are_rejected():
    assert validate_definition([field(key="a"), field(key="a", label="Other")])


def test_key_from_label_is_unique():
    assert key_from_label("Your Team?", set()) == "your_team"
    assert key_from_label("Your Team?", {"your_team"}) == "your_team_2"


FORM = [
    FormField("name", "Name", "short_text", required=True),
    FormField("email", "Email", "email"),
    FormField("age", "Age", "number", min=18, max=99),
    FormField("team", "Team", "single_choice", options=["A", "B"], required=True),
    FormField("tools", "Tools", "multiple_choice", options=["X", "Y"]),
    FormField("ok", "I agree", "consent", required=True),
    FormField("bio", "Bio", "long_text"),
]


def test_valid_answers_are_cleaned():
    clean, errors = validate_answers(FORM, {"name": " Ann ", "email": "a@b.org", "age": "42", "team": "B",
                                            "tools": ["X", "Y"], "ok": True, "bio": ""})
    assert errors == {}
    assert clean == {"name": "Ann", "email": "a@b.org", "age": "42", "team": "B",
                     "tools": json.dumps(["X", "Y"]), "ok": "yes"}


@pytest.mark.parametrize("key, value, fragment", [
    ("name", "", "required"),
    ("name", "x" * 201, "under 200"),
    ("email", "not-an-email", "valid email"),
    ("age", "abc", "a number"),
    ("age", "17", "at least 18"),
    ("age", "100", "at most 99"),
    ("age", "nan", "a number"),
    ("team", "C", "one of the options"),
    ("team", None, "required"),
    ("tools", ["X", "Q"], "among the options"),
    ("ok", False, "tick the box"),
    ("bio", "y" * 4001, "under 4000"),
])
def test_invalid_answers_get_a_message_on_their_field(key, value, fragment):
    answers = {"name": "Ann", "team": "A", "ok": True, key: value}
    _clean, errors = validate_answers(FORM, answers)
    assert list(errors) == [key]
    assert fragment in errors[key]


def test_optional_empty_fields_are_not_stored():
    clean, errors = validate_answers(FORM, {"name": "Ann", "team": "A", "ok": True, "email": "", "age": ""})
    assert errors == {}
    assert "email" not in clean and "age" not in clean
