"""One import line -> one repository record: the normalised column values the tables index, and
the whole Apollo-shaped object (``data``) that responses render.

An import line is an object with the field names of Apollo's person and organization responses
(``first_name``, ``linkedin_url``, ``employment_history``, ``primary_domain``, ``keywords`` ...).
``person_record`` and ``organization_record`` are pure functions: no database, no clock. They
raise ``RecordError`` with a plain-language reason when a line cannot become a record.

What ``data`` holds, and why:

- every field Apollo shows for the entity, in Apollo's order; an absent list is ``[]``, an absent
  object ``{}``, an absent scalar ``null`` (clients index into these without checks);
- URLs in Apollo's canonical forms (``http://www.apollo.io``, ``http://www.linkedin.com/in/x``),
  phones in E.164 beside the raw text, city/state/country as resolved display names;
- the title's seniority, departments, subdepartments and functions from ``classify_title`` where
  the line does not give them, so search filters and rendered fields always agree;
- nothing per team or per request (``revealed_for_current_team``, ``contact``) and not the
  nested ``organization``: read endpoints join the organization's own record, so updating an
  organization never rewrites its people.

Fields Apollo does not have are ignored, as Apollo ignores unknown parameters. Speed matters (an
import normalises a million lines): names are split with nameparser only when no first or last
name is given, and every normaliser used here caches its repeated inputs.

Modules: ``organizations`` and ``people`` (the records), ``values`` (reading JSON and CSV values,
merging a line into a stored record).
"""

from perilune.repository.records.organizations import (
    MISSING_ORGANIZATION_NAME,
    ORGANIZATION_FIELDS,
    ORGANIZATION_GROUPS,
    OrganizationRecord,
    company_basename,
    organization_key,
    organization_record,
    printed_amount,
)
from perilune.repository.records.people import (
    EMPLOYMENT_FIELDS,
    LOCKED_EMAIL,
    MISSING_PERSON_NAME,
    PERSON_FIELDS,
    PERSON_GROUPS,
    PersonRecord,
    person_record,
)
from perilune.repository.records.values import (
    LIST_SEPARATOR,
    Raw,
    RecordError,
    derived_id,
    filled_raw,
    merged_raw,
)

__all__ = [
    "EMPLOYMENT_FIELDS",
    "LIST_SEPARATOR",
    "LOCKED_EMAIL",
    "MISSING_ORGANIZATION_NAME",
    "MISSING_PERSON_NAME",
    "ORGANIZATION_FIELDS",
    "ORGANIZATION_GROUPS",
    "PERSON_FIELDS",
    "PERSON_GROUPS",
    "OrganizationRecord",
    "PersonRecord",
    "Raw",
    "RecordError",
    "company_basename",
    "derived_id",
    "filled_raw",
    "merged_raw",
    "organization_key",
    "organization_record",
    "person_record",
    "printed_amount",
]
