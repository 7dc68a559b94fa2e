"""One package per Apollo area: endpoints.py (HTTP only), service.py (logic), repository.py (all
SQL), schemas.py (wire shapes). Only app.py imports this package."""
