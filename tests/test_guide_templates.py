import pytest

from core.brief import Brief, parse_items, validate_brief
from core.forms import validate_definition
from core.guide import Step, generate_offline_guide, validate_guide
from core.templates import load_templates

HARMONICA_TYPES = {"Theory of Change", "Retrospective", "SWOT analysis", "OKR planning", "Community policy proposal",
                   "Brainstorming", "Weekly check-in", "Action planning", "Risk assessment"}


def test_parse_items_one_per_line():
    assert parse_items("- Budget\n\n* Timeline\n  Budget \nRisks") == ["Budget", "Timeline", "Risks"]


@pytest.mark.parametrize("brief, field", [
    (Brief("ab", "A long enough objective", ["x"]), "name"),
    (Brief("x" * 121, "A long enough objective", ["x"]), "name"),
    (Brief("Name", "short", ["x"]), "objective"),
    (Brief("Name", "A long enough objective", []), "critical_items"),
    (Brief("Name", "A long enough objective", ["x"], "c" * 4001), "context"),
])
def test_brief_errors_name_the_field(brief, field):
    assert field in validate_brief(brief)


def test_valid_brief():
    assert validate_brief(Brief("Team retro", "Learn from the last sprint", ["Wins", "Pains"])) == {}


def test_offline_guide_covers_every_critical_item_in_order():
    brief = Brief("Budget talk", "Decide next year's budget", ["Budget priorities", "Timeline", "Risks"])
    steps = generate_offline_guide(brief)
    assert [s.critical_item for s in steps] == ["Budget priorities", "Timeline", "Risks", None]
    assert all(s.question.endswith("?") for s in steps)
    assert "budget priorities" in steps[0].question
    assert all(s.probe for s in steps)
    errors, warnings = validate_guide(steps, brief.critical_items)
    assert errors == [] and warnings == []


def test_offline_guide_is_deterministic_and_localised():
    brief = Brief("Budget talk", "Decide next year's budget", ["Budget"])
    assert generate_offline_guide(brief) == generate_offline_guide(brief)
    french = generate_offline_guide(brief, "fr")
    assert french[0].question != generate_offline_guide(brief)[0].question
    assert "votre" in french[0].question


def test_validate_guide_errors_and_warnings():
    errors, warnings = validate_guide([Step(""), Step("Q?", critical_item="Unknown")], ["Budget"])
    assert any("Step 1" in e and "empty" in e for e in errors)
    assert any("Step 2" in e and "Unknown" in e for e in errors)
    assert warnings == ["No step covers the critical item 'Budget'."]
    assert validate_guide([], ["Budget"])[0]


def test_ships_the_nine_harmonica_templates():
    names = {t.name for t in load_templates().values()}
    assert HARMONICA_TYPES <= names


@pytest.mark.parametrize("key", sorted(load_templates()))
def test_each_template_is_complete_and_valid(key):
    t = load_templates()[key]
    assert validate_brief(t.brief) == {}
    assert validate_definition(t.form) == []
    errors, warnings = validate_guide(t.guide, t.brief.critical_items)
    assert errors == [] and warnings == []
    assert len(t.guide) >= 3 and t.description
    # the generated guide from the template's brief is valid too
    generated = generate_offline_guide(t.brief)
    assert validate_guide(generated, t.brief.critical_items) == ([], [])


def test_items_keep_their_wording_questions_stay_questions_and_names_keep_their_case():
    brief = Brief("Office move", "Hear how the Paris office move affects people",
                  ["What went well", "Budget priorities", "Paris office", "Is the timeline realistic?"])
    questions = [s.question for s in generate_offline_guide(brief)]
    assert questions[0] == "What went well?" and questions[3] == "Is the timeline realistic?"
    assert "budget priorities" in questions[1] and "Paris office" in questions[2]
    assert not any("experience or view" in q for q in questions)
    assert len({q.split()[0] for q in questions[1:3]}) == 2          # varied, not one template repeated


def test_regenerating_keeps_the_questions_of_items_still_in_the_brief(db, creator):
    from core.repos import sessions as srepo
    from core.sessions import create_session, regenerate_guide, update_brief
    from core.templates import get_template

    t = get_template("retrospective")
    s = create_session(db, creator, t.brief, template_key="retrospective")
    items = t.brief.critical_items
    update_brief(db, creator, s.id, Brief(t.brief.name, t.brief.objective, items[1:] + ["Tooling"], t.brief.context))
    version = regenerate_guide(db, creator, s.id)
    steps = srepo.get_guide_version(db, s.id, version).steps
    template_steps = {st.critical_item: st for st in t.guide}
    assert [st.critical_item for st in steps if st.critical_item] == items[1:] + ["Tooling"]
    for st in steps:
        if st.critical_item in template_steps:
            assert st == template_steps[st.critical_item]              # the template's question, kept
    assert steps[-1] == t.guide[-1] or steps[-1].critical_item is None
    assert "tooling" in next(st.question for st in steps if st.critical_item == "Tooling")
