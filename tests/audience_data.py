"""One small session for the audience tests (issue 15, point 3): eight finished participants whose answers fall into
three themes raised by 4, 3 and 1 people; the lone participant names their manager, in two statements (so they
form a theme of their own rather than an outlier folded into another)."""

from __future__ import annotations

from core import conversation
from core.synthesis.pipeline import synthesize
from tests.helpers import launched_session

SAID = {"coffee": "The kitchen coffee machine is broken and the coffee tastes burnt",
        "meetings": "Too many meetings fill the calendar and the meetings run long",
        "alone": "My manager Zebulon ignores every request I make for a standing desk. Zebulon says a standing desk "
                 "costs too much money"}
PLAN = ["coffee"] * 4 + ["meetings"] * 3 + ["alone"]
ENDINGS = ["", " this sprint", " again", " every week", " honestly", " for everyone", " lately", " today"]


def said(i: int) -> str:
    """What participant i (0-based) answered."""
    return f"{SAID[PLAN[i]]}{ENDINGS[i]}."


def populate(db, owner):
    """A launched session of `owner` with the eight finished participants, synthesised offline: (session, tokens)."""
    s = launched_session(db, owner)
    tokens = []
    for i in range(len(PLAN)):
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, said(i))
        conversation.finish(db, p.token)
        tokens.append(p.token)
    synthesize(db, [s.id])
    return s, tokens
