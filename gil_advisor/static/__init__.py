"""The static side: read source with libcst, never import or run it."""
