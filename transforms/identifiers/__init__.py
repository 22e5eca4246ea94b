"""transforms/identifiers."""
