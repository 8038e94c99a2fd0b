"""The plan the user edits and saves: schema, layout of nodes and cards, checks, files, edits."""
