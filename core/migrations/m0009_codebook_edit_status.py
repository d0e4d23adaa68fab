"""Codebook edits keep a status: applied, pending (no longer fits the themes, with why) or discarded.

After every re-synthesis each stored edit is mapped to the new themes by statement membership; one that maps is
applied again, one that does not stays stored as pending with a plain explanation (`note`) and the themes its
statements went to (`candidates`, JSON list of theme ids of `run_id`), until the researcher re-applies or discards
it. Only a person discards an edit. `updated_at` is when a person last changed it: a run that started earlier does
not overwrite that status.
"""

SQL = """
        ALTER TABLE codebook_edits ADD COLUMN status VARCHAR DEFAULT 'applied';
        ALTER TABLE codebook_edits ADD COLUMN note VARCHAR DEFAULT '';
        ALTER TABLE codebook_edits ADD COLUMN candidates VARCHAR DEFAULT '[]';
        ALTER TABLE codebook_edits ADD COLUMN run_id VARCHAR;
        ALTER TABLE codebook_edits ADD COLUMN updated_at TIMESTAMP;
        """
