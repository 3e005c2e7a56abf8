"""The model repo convention: layout, YAML with positions, JSON Schemas, records, SQL templates, trainer source and loading."""
