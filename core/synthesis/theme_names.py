"""Theme names as people see them: two themes of one run never share a label.

Labels come from keyphrases, from the model, or from a researcher's rename, so two themes can end up with the same
words (three offline themes called "Answer" on an import). Anything that lists themes side by side (charts, tables,
exports) would then merge or confuse them, so a run's labels are made unique when it is stored, and a rename to a
label another theme already has is refused. Code keys themes by their id, never by their label.
"""

from __future__ import annotations


def label_key(label: str) -> str:
    """The form two labels are compared in: case and surrounding or repeated spaces do not make a new name."""
    return " ".join(str(label).split()).casefold()


def unique_labels(labels: list[str]) -> list[str]:
    """The labels in the same order, each repeated one suffixed " (2)", " (3)", … (the first keeps its name;
    a suffixed name never takes a label used elsewhere in the list)."""
    taken = {label_key(lbl) for lbl in labels}
    seen: set[str] = set()
    out = []
    for label in labels:
        key = label_key(label)
        if key not in seen:
            seen.add(key)
            out.append(label)
            continue
        n, base = 2, " ".join(str(label).split())
        while label_key(f"{base} ({n})") in taken | seen:
            n += 1
        name = f"{base} ({n})"
        seen.add(label_key(name))
        out.append(name)
    return out


def label_in_use(label: str, labels: dict[str, str], except_ids: set[str] | frozenset[str] = frozenset()) -> str | None:
    """The id of a theme (other than `except_ids`) already called `label`, or None. `labels`: theme id -> label."""
    key = label_key(label)
    for theme_id, other in labels.items():
        if theme_id not in except_ids and label_key(other) == key:
            return theme_id
    return None
