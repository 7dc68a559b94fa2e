"""The people/organization data repository: normalisation, import and synthetic generation."""
