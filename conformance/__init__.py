"""The conformance suite: one module per requirement family; requirements.yaml is the catalogue."""
