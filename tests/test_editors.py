import pandas as pd

from core.forms import FormField
from core.guide import Step
from ui.editors import (
    field_items,
    fields_from_frame,
    fields_from_items,
    form_frame,
    guide_frame,
    step_items,
    steps_from_frame,
    steps_from_items,
)


def test_guide_round_trip_and_reorder():
    steps = [Step("A?", "pa", "X"), Step("B?", "", None), Step("C?", "pc", "Y")]
    frame = guide_frame(steps)
    assert steps_from_frame(frame) == steps
    frame.loc[0, "order"] = 9  # move the first step last
    new = pd.DataFrame([{"order": None, "question": " D? ", "probe": None, "critical_item": ""}])
    result = steps_from_frame(pd.concat([frame, new], ignore_index=True))
    assert [s.question for s in result] == ["B?", "C?", "D?", "A?"]
    assert result[2] == Step("D?", "", None)


def test_form_round_trip_keeps_keys_and_flags():
    fields = [FormField("team", "Team", "single_choice", True, ["A", "B"]),
              FormField("mail", "Email", "email", share_with_model=False, identifying=True),
              FormField("age", "Age", "number", min=18, max=99, share_with_model=True)]
    assert fields_from_frame(form_frame(fields)) == fields


def test_new_form_rows_get_unique_keys_from_labels():
    frame = pd.DataFrame([
        {"order": 1, "label": "Your role", "type": "short_text", "required": None, "options": None, "min": None,
         "max": None, "share_with_model": None, "identifying": None, "key": None},
        {"order": 2, "label": "Your role", "type": "single_choice", "required": True, "options": "a; b ;",
         "min": None, "max": None, "share_with_model": True, "identifying": False, "key": None},
    ])
    a, b = fields_from_frame(frame)
    assert (a.key, b.key) == ("your_role", "your_role_2")
    assert b.options == ["a", "b"] and b.required and b.share_with_model and not a.required


def test_card_items_round_trip_and_drop_what_the_type_does_not_use():
    steps = [Step("A?", "pa", "X"), Step("B?", "", None)]
    assert steps_from_items(step_items(steps)) == steps
    fields = [FormField("team", "Team", "single_choice", True, ["A", "B"]),
              FormField("age", "Age", "number", min=18, max=99, share_with_model=True)]
    items = field_items(fields)
    assert fields_from_items(items) == fields
    items[0]["type"] = "short_text"          # was a choice: its options go
    items[1]["type"] = "long_text"           # was a number: its limits go
    items.append({"key": "", "label": "Team", "type": "multiple_choice", "required": False,
                  "options": " x \n\ny\n", "min": 3, "max": None, "share_with_model": False, "identifying": True})
    a, b, c = fields_from_items(items)
    assert (a.key, a.options, b.min, b.max) == ("team", [], None, None)
    assert (c.key, c.options, c.min, c.identifying) == ("team_2", ["x", "y"], None, True)
