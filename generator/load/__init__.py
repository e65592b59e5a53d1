"""Stage load: YAML text -> data with source positions, validated against the JSON Schemas,
defaulted, as typed read-only specs (``repository.load_inputs``); release.yaml's pins."""
