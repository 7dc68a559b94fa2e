"""What ``q_keywords`` searches on a contact, kept in a column when the contact is written (by the
contacts endpoints, their bulk jobs and the demo book alike)."""

from __future__ import annotations

from perilune.models import Contact
from perilune.repository.normalize import fold


def refresh_keywords(contact: Contact) -> None:
    """The folded words of name, title, company and email, with a space before each, so that
    a search matches the start of a word (``LIKE '% word%'``)."""
    parts = (contact.name, contact.title, contact.organization_name, contact.email)
    contact.keywords = f" {fold(' '.join(part for part in parts if part))} "
