"""Themes keep a stability figure and their sub-themes; statements keep their sub-theme.

`synthesis_themes.stability`: mean best-match Jaccard of the theme with the themes found in reseeded bootstrap
subsamples (core.synthesis.cluster), 0..1; NULL when not measured (runs stored before this, themes a codebook edit
made). `synthesis_themes.subthemes`: JSON list of {"id", "label", "participants", "mentions", "quotes"} (the second
level under a large theme), '[]' when none. `synthesis_statements.subtheme_id`: the sub-theme a statement belongs to
within its theme, NULL when none. A theme of origin 'other' holds the statements that fit no theme.
"""

SQL = """
        ALTER TABLE synthesis_themes ADD COLUMN stability DOUBLE PRECISION;
        ALTER TABLE synthesis_themes ADD COLUMN subthemes VARCHAR DEFAULT '[]';
        ALTER TABLE synthesis_statements ADD COLUMN subtheme_id VARCHAR;
        """
