"""The built-in export formats, as mapping files (docs/assessment.md)."""
