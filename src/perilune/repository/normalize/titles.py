"""Job titles: Apollo's seniority, departments, subdepartments and functions, and title search.

``classify_title("Founder & CEO")`` -> seniority ``founder``, departments ``(c_suite,)``,
subdepartments ``(executive, founder)``, functions ``(entrepreneurship,)``.

How a title is read
-------------------
1. ``fold`` it to lowercase ASCII words ("Sr. V.P., Sales & Marketing (EMEA)" ->
   ``sr v p sales marketing emea``), then rewrite words through WORD_SYNONYMS (abbreviations and a
   few non-English words: ``sr`` -> ``senior``, ``v p`` -> ``vp``, ``gerente`` -> ``manager``).
   "IT" counts only when written in capitals (or the whole title is lowercase): "it" is a word.
2. Seniority: the first row of SENIORITY_RULES with a phrase in the title wins; phrases in
   SENIORITY_BLIND are hidden first (the "owner" in "Product Owner", the "partner" in "Partner
   Manager"). A title with words but no match is ``entry``; an empty one has no seniority.

   ====================  ==================================================================
   seniority             phrases (first row that matches wins)
   ====================  ==================================================================
   entry                 executive assistant, assistant to, personal assistant (before all)
   director              chief of staff, deputy/associate/assistant general counsel
   owner                 owner, co owner, proprietor, self employed, freelance(r)
   founder               founder, co founder
   c_suite               ceo cfo coo cto cmo cro cio ciso chro clo cpo cdo cco, chief ...
                         officer, chief executive, president, managing director, general
                         counsel, chairman, geschaftsfuhrer
   partner               partner (not partner manager / business partner / partnerships ...)
   vp                    vp, svp, evp, avp, vice president (any spelling)
   head                  head, chief (not an officer: chief engineer, chief architect)
   director              director (and directeur, direktor, diretor ...)
   intern                intern, internship, working student, student, phd candidate, co op
   manager               manager, supervisor, team lead(er), gerente, responsable
   senior                senior, principal, lead, staff engineer/scientist/designer ...
   entry                 junior, associate, assistant, trainee, apprentice, and the default
   ====================  ==================================================================

3. Executive areas (EXECUTIVE_RULES), for ``c_suite``, ``founder`` and ``owner`` titles only:
   department ``c_suite``; founders add ``founder``, owners ``executive`` (both with function
   ``entrepreneurship``); C-level phrases add a subdepartment naming the area (``CFO`` ->
   ``finance_executive``) and are consumed, so "Chief Marketing Officer" is not also a
   ``marketing`` department.
4. Departments (DEPARTMENT_RULES), checked in order, specific phrases before generic words;
   each match adds its department, subdepartment and function and consumes its words, so
   "Sales Operations Manager" is ``sales/sales_operations`` and not also ``operations``. Every
   department implies a function (DEPARTMENT_FUNCTION) unless the row names another. Rows
   marked ``fallback`` (role nouns like "engineer", "designer", "office") count only when no
   other row gave a functional department.

docs/data-formats.md ("Title classification") carries the same tables for readers of the API.

Title search
------------
``title_matches(query, title)``: every query word is in the title, any order, after ``fold``,
WORD_SYNONYMS, dropping stop words (of, and, the, ...) and light plural stemming
("managers" -> "manager", "companies" -> "company"). Words match whole: "engineer" does not
match "engineering".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from perilune.repository.normalize.text import fold_words

SENIORITIES: tuple[str, ...] = (
    "owner", "founder", "c_suite", "partner", "vp", "head", "director", "manager", "senior", "entry",
    "intern",
)  # fmt: skip
DEPARTMENTS: tuple[str, ...] = (
    "c_suite", "product_management", "engineering_technical", "design", "education", "finance",
    "human_resources", "information_technology", "legal", "marketing", "medical_health",
    "operations", "sales", "consulting", "support",
)  # fmt: skip
DEPARTMENT_FUNCTION: dict[str, str] = {
    "engineering_technical": "engineering", "sales": "sales", "marketing": "marketing",
    "finance": "finance", "operations": "operations", "human_resources": "human_resources",
    "information_technology": "information_technology", "legal": "legal",
    "product_management": "product_management", "design": "arts_and_design",
    "education": "education", "medical_health": "healthcare_services", "consulting": "consulting",
    "support": "support",
}  # fmt: skip

# Rewritten before anything else; keys are single folded words, values one or more words.
WORD_SYNONYMS: dict[str, str] = {
    "sr": "senior", "snr": "senior", "jr": "junior", "mgr": "manager", "mngr": "manager",
    "dir": "director", "exec": "executive", "engr": "engineer", "dev": "developer",
    "devs": "developers", "mktg": "marketing", "mkt": "marketing", "acct": "account",
    "ops": "operations", "asst": "assistant", "assoc": "associate", "coord": "coordinator",
    "rep": "representative", "reps": "representatives", "mgmt": "management",
    "bizdev": "business development", "cofounder": "co founder", "coowner": "co owner",
    "vicepresident": "vp", "pres": "president", "cust": "customer", "svc": "service",
    "svcs": "services", "intl": "international", "hrbp": "hr business partner",
    "chairwoman": "chairman", "chairperson": "chairman",
    # non-English words common in CRM exports
    "gerente": "manager", "responsable": "manager", "directeur": "director",
    "directrice": "director", "direktor": "director", "diretor": "director",
    "diretora": "director", "direttore": "director", "directora": "director",
    "leiter": "head", "leiterin": "head", "jefe": "head", "jefa": "head",
    "fondateur": "founder", "fondatrice": "founder", "fundador": "founder",
    "fundadora": "founder", "grunder": "founder", "inhaber": "owner", "inhaberin": "owner",
    "presidente": "president", "praktikant": "intern", "praktikantin": "intern",
    "stagiaire": "intern", "becario": "intern", "becaria": "intern", "estagiario": "intern",
    "werkstudent": "intern", "werkstudentin": "intern", "ingenieur": "engineer",
    "ingeniero": "engineer", "engenheiro": "engineer", "entwickler": "developer",
    "desarrollador": "developer", "developpeur": "developer", "vertrieb": "sales",
    "ventas": "sales", "ventes": "sales", "vendas": "sales", "comercial": "sales",
    "geschaftsfuhrerin": "geschaftsfuhrer", "abogado": "lawyer", "avocat": "lawyer",
    "rechtsanwalt": "lawyer", "berater": "consultant", "beraterin": "consultant",
    "consultor": "consultant", "consultora": "consultant", "profesor": "professor",
    "enfermera": "nurse", "medico": "physician", "contador": "accountant",
}  # fmt: skip
# Multi-word rewrites, applied to the joined words after WORD_SYNONYMS.
PHRASE_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("vice president", "vp"), ("v p", "vp"), ("vice presidente", "vp"), ("r and d", "r d"),
    ("recursos humanos", "human resources"), ("ressources humaines", "human resources"),
    ("fp and a", "fp a"), ("l and d", "l d"), ("m and a", "m a"), ("co op", "coop"),
    ("front end", "frontend"), ("back end", "backend"), ("full stack", "fullstack"),
    ("dev ops", "devops"), ("e commerce", "ecommerce"), ("pre sales", "presales"),
    ("biz dev", "business development"), ("rev ops", "revops"), ("help desk", "helpdesk"),
)  # fmt: skip

# Hidden before seniority is read: words inside them do not mean what they mean alone.
SENIORITY_BLIND: tuple[str, ...] = (
    "product owner", "process owner", "business owner", "data owner", "account owner",
    "business partner", "channel partner", "partner manager", "partner marketing",
    "partner success", "partner sales", "partner development", "partner account",
    "partner engineer", "partner solutions", "partner relations", "partner programs",
    "partner operations", "partner enablement", "client partner", "people partner",
    "talent partner", "learning partner", "partner ecosystem", "technology partner",
    "lead generation",
)  # fmt: skip

SENIORITY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry", ("executive assistant", "assistant to", "personal assistant")),
    ("director", (
        "chief of staff", "deputy general counsel", "associate general counsel",
        "assistant general counsel")),
    ("owner", ("owner", "co owner", "proprietor", "self employed", "freelance", "freelancer")),
    ("founder", ("founder", "co founder", "founders")),
    ("c_suite", (
        "ceo", "cfo", "coo", "cto", "cmo", "cro", "cio", "ciso", "chro", "clo", "cpo", "cdo",
        "cco", "cso", "cxo", "cbo", "cao", "cno", "chief executive", "president",
        "managing director", "general counsel", "chairman", "geschaftsfuhrer",
        "chief * officer",
    )),
    ("partner", ("partner",)),
    ("vp", ("vp", "svp", "evp", "avp", "vps")),
    ("head", ("head", "chief")),
    ("director", ("director", "directors")),
    ("intern", (
        "intern", "interns", "internship", "working student", "coop", "student",
        "phd candidate", "doctoral candidate")),
    ("manager", ("manager", "managers", "supervisor", "team lead", "team leader", "foreman")),
    ("senior", (
        "senior", "principal", "lead", "staff engineer", "staff software", "staff data",
        "staff scientist", "staff developer", "staff designer", "staff product",
        "staff machine", "staff ml", "staff research", "staff site",
    )),
    ("entry", ("junior", "associate", "assistant", "trainee", "apprentice", "graduate")),
)  # fmt: skip


class _Rule(NamedTuple):
    department: str
    subdepartment: str | None
    function: str | None
    phrases: tuple[str, ...]
    fallback: bool = False  # applies only when no other rule gave a functional department


# C-level areas: (department, subdepartment, function, phrases). "chief * officer" matches any
# chief ... officer not named before it.
EXECUTIVE_RULES: tuple[_Rule, ...] = (
    _Rule("c_suite", "medical_health_executive", "healthcare_services", (
        "chief medical officer", "chief nursing officer", "chief clinical officer",
        "chief health officer", "cmio", "cno")),
    _Rule("c_suite", "finance_executive", "finance", (
        "cfo", "chief financial officer", "chief finance officer", "chief accounting officer")),
    _Rule("c_suite", "information_technology_executive", "engineering", (
        "cto", "chief technology officer", "chief technical officer")),
    _Rule("c_suite", "information_technology_executive", "information_technology", (
        "cio", "ciso", "cdo", "chief information officer", "chief information security officer",
        "chief security officer", "chief data officer", "chief digital officer",
        "chief ai officer")),
    _Rule("c_suite", "operations_executive", "operations", (
        "coo", "chief operating officer", "chief operations officer",
        "chief administrative officer", "cao", "chief strategy officer")),
    _Rule("c_suite", "marketing_executive", "marketing", (
        "cmo", "chief marketing officer", "chief brand officer", "chief growth officer",
        "chief communications officer")),
    _Rule("c_suite", "sales_executive", "sales", (
        "cro", "chief revenue officer", "chief sales officer", "chief commercial officer",
        "cco", "chief customer officer", "chief business officer", "cbo")),
    _Rule("c_suite", "human_resources_executive", "human_resources", (
        "chro", "chief human resources officer", "chief people officer", "chief hr officer",
        "chief talent officer")),
    _Rule("c_suite", "legal_executive", "legal", (
        "clo", "chief legal officer", "general counsel", "chief compliance officer")),
    _Rule("c_suite", "executive", "product_management", ("cpo", "chief product officer")),
    _Rule("c_suite", "executive", None, (
        "ceo", "chief executive officer", "chief executive", "president", "managing director",
        "geschaftsfuhrer", "chairman", "executive chairman", "cxo", "cso", "chief * officer")),
)  # fmt: skip

# Functional departments, most specific first: (department, subdepartment, function, phrases).
DEPARTMENT_RULES: tuple[_Rule, ...] = (
    # phrases whose words would otherwise land in the wrong department
    _Rule("operations", "office_operations", "administrative", ("data entry",)),
    _Rule("legal", "privacy", None, ("data protection", "privacy")),
    _Rule("marketing", None, None, ("market research", "marketing research")),
    _Rule("design", "product_or_ui_ux_design", "arts_and_design", (
        "user research", "user researcher", "ux research", "ux researcher")),
    _Rule("medical_health", None, None, ("clinical research", "clinical trials")),
    _Rule("information_technology", "information_security", None, (
        "information security", "cyber security", "cybersecurity", "infosec",
        "security engineer", "security analyst", "security architect", "soc analyst",
        "penetration tester")),
    _Rule("sales", "sales_engineering", None, (
        "sales engineer", "sales engineering", "solutions engineer", "solution engineer",
        "solutions consultant", "solution consultant", "solutions architect",
        "solution architect", "presales", "customer engineer")),
    _Rule("sales", "sales_operations", None, ("sales operations", "sales operation")),
    _Rule("sales", "revenue_operations", None, ("revenue operations", "revops")),
    _Rule("sales", "sales_enablement", None, ("sales enablement",)),
    _Rule("sales", "sales_training", None, ("sales training", "sales trainer")),
    _Rule("sales", "partnerships", "business_development", (
        "partnerships", "partnership", "partner manager", "partner development",
        "partner account", "channel partner", "alliances", "alliance", "partner programs",
        "partner ecosystem")),
    _Rule("marketing", "product_marketing", None, ("product marketing", "product marketer")),
    _Rule("marketing", "marketing_operations", None, (
        "marketing operations", "marketing technology", "martech")),
    _Rule("operations", "physical_security", None, (
        "security guard", "security officer", "physical security", "loss prevention")),
    _Rule("information_technology", "help_desk_desktop_services", None, (
        "it support", "helpdesk", "service desk", "desktop support", "it technician")),
    _Rule("information_technology", "information_security", None, ("security",)),
    _Rule("information_technology", "networking", None, ("network", "networking", "networks")),
    _Rule("information_technology", "database_administration", None, (
        "database administrator", "dba", "database")),
    _Rule("information_technology", "it_operations", None, (
        "it operations", "system administrator", "systems administrator", "sysadmin")),
    _Rule("engineering_technical", None, None, ("design engineer", "product engineer")),
    _Rule("education", None, None, ("instructional designer", "instructional design")),
    _Rule("design", "product_or_ui_ux_design", "arts_and_design", (
        "ux", "ui", "user experience", "user interface", "product designer", "product design",
        "interaction designer", "interaction design", "ux ui", "ui ux")),
    _Rule("design", "graphic_design", None, (
        "graphic designer", "graphic design", "visual designer", "visual design",
        "illustrator", "animator", "motion designer")),
    _Rule("product_management", "product_management", None, (
        "product manager", "product management", "product owner", "product lead",
        "product director", "head of product", "product", "products")),
    # engineering
    _Rule("engineering_technical", "devops", None, (
        "devops", "site reliability", "sre", "platform engineer", "infrastructure engineer",
        "cloud engineer", "release engineer", "build engineer")),
    _Rule("engineering_technical", "test_quality_assurance", "quality_assurance", (
        "quality assurance", "qa", "test engineer", "sdet", "tester", "test automation",
        "quality engineer")),
    _Rule("engineering_technical", "artificial_intelligence_machine_learning", None, (
        "machine learning", "ml", "ai", "artificial intelligence", "deep learning", "nlp",
        "computer vision")),
    _Rule("engineering_technical", "data_science", None, (
        "data scientist", "data science", "data engineer", "data engineering",
        "analytics engineer", "data analyst", "data")),
    _Rule("engineering_technical", "business_intelligence", None, (
        "business intelligence", "bi analyst", "bi developer", "bi")),
    _Rule("engineering_technical", "mobile_development", None, (
        "ios", "android", "mobile developer", "mobile engineer", "mobile")),
    _Rule("engineering_technical", "web_development", None, (
        "frontend", "web developer", "web development", "web engineer")),
    _Rule("engineering_technical", "software_development", None, (
        "software engineer", "software engineering", "software developer",
        "software development", "software architect", "swe", "sde", "programmer",
        "developer", "developers", "fullstack", "backend", "software")),
    _Rule("engineering_technical", "scrum_master_agile_coach", None, (
        "scrum master", "agile coach")),
    _Rule("engineering_technical", "research_development", "research", (
        "research scientist", "research engineer", "research and development", "r d",
        "research")),
    _Rule("engineering_technical", "technician", None, ("technician", "technicians"), fallback=True),
    # sales
    _Rule("sales", "business_development", "business_development", (
        "business development", "bdr", "bdm")),
    _Rule("sales", "inside_sales", None, ("sdr", "sales development", "inside sales")),
    _Rule("sales", "field_outside_sales", None, ("field sales", "outside sales", "territory")),
    _Rule("sales", "account_management", None, (
        "account manager", "account management", "key account", "account director",
        "relationship manager", "client partner")),
    _Rule("sales", "customer_success", None, (
        "customer success", "csm", "client success")),
    _Rule("sales", "channel_sales", None, ("channel",)),
    _Rule("sales", None, None, (
        "account executive", "ae", "sales", "salesperson", "seller", "commercial")),
    _Rule("sales", None, None, ("revenue",), fallback=True),
    # marketing
    _Rule("marketing", "demand_generation", None, (
        "demand generation", "demand gen", "lead generation", "growth marketing")),
    _Rule("marketing", "content_marketing", None, (
        "content marketing", "content strategist", "content manager", "content writer",
        "copywriter", "content")),
    _Rule("marketing", "digital_marketing", None, ("digital marketing",)),
    _Rule("marketing", "social_media_marketing", None, ("social media",)),
    _Rule("marketing", "search_engine_optimization_pay_per_click", None, (
        "seo", "sem", "ppc", "search engine optimization", "paid search", "paid media",
        "performance marketing")),
    _Rule("marketing", "brand_management", None, ("brand", "branding")),
    _Rule("marketing", "public_relations", None, (
        "public relations", "pr", "media relations")),
    _Rule("marketing", "marketing_communications", None, (
        "marketing communications", "communications", "communication", "comms", "marcom")),
    _Rule("marketing", "event_marketing", None, ("event", "events")),
    _Rule("marketing", "field_marketing", None, ("field marketing",)),
    _Rule("marketing", "customer_marketing", None, ("customer marketing", "lifecycle marketing")),
    _Rule("marketing", "advertising", None, ("advertising",)),
    _Rule("marketing", None, None, ("marketing", "marketer", "growth")),
    # finance
    _Rule("finance", "financial_planning_analysis", None, (
        "fp a", "financial planning", "financial analyst", "finance analyst")),
    _Rule("finance", "accounting", "accounting", (
        "accountant", "accounting", "accounts payable", "accounts receivable", "bookkeeper",
        "bookkeeping", "controller", "comptroller", "cpa", "payroll")),
    _Rule("finance", "tax", None, ("tax",)),
    _Rule("finance", "treasury", None, ("treasury", "treasurer")),
    _Rule("finance", "investor_relations", None, ("investor relations",)),
    _Rule("finance", "internal_audit_control", None, (
        "internal audit", "audit", "auditor", "internal control")),
    _Rule("finance", "sourcing_procurement", "purchasing", (
        "procurement", "purchasing", "sourcing", "buyer")),
    _Rule("finance", "mergers_acquisitions", None, (
        "m a", "mergers and acquisitions", "corporate development")),
    _Rule("finance", None, None, (
        "financial advisor", "financial adviser", "wealth advisor", "wealth manager",
        "finance", "financial", "billing", "credit", "investment", "investments", "banker",
        "banking")),
    # human resources
    _Rule("human_resources", "recruiting_talent_acquisition", None, (
        "recruiter", "recruiting", "recruitment", "talent acquisition", "sourcer",
        "headhunter")),
    _Rule("human_resources", "compensation_benefits", None, (
        "compensation", "benefits", "total rewards")),
    _Rule("human_resources", "learning_development", None, (
        "learning and development", "learning development", "l d", "training and development",
        "training")),
    _Rule("human_resources", "hr_business_partner", None, (
        "hr business partner", "people partner", "business partner")),
    _Rule("human_resources", "culture_diversity_inclusion", None, (
        "diversity", "dei", "inclusion")),
    _Rule("human_resources", "talent_management", None, ("talent management", "talent")),
    _Rule("human_resources", None, None, (
        "human resources", "human resource", "hr", "people", "personnel",
        "employee relations")),
    # information technology
    _Rule("information_technology", None, None, (
        "information technology", "it", "technology", "systems", "erp")),
    # legal
    _Rule("legal", "legal_counsel", None, ("legal counsel", "counsel")),
    _Rule("legal", "lawyer_attorney", None, (
        "attorney", "lawyer", "solicitor", "barrister")),
    _Rule("legal", "compliance", None, ("compliance",)),
    _Rule("legal", "contracts", None, ("contracts", "contract")),
    _Rule("legal", "intellectual_property_patent", None, (
        "intellectual property", "patent", "patents")),
    _Rule("legal", None, None, ("legal", "paralegal", "litigation")),
    # operations
    _Rule("operations", "supply_chain", None, (
        "supply chain", "logistics", "warehouse", "distribution", "shipping", "fulfillment",
        "inventory")),
    _Rule("operations", "facilities_management", None, ("facilities", "facility")),
    _Rule("operations", "office_operations", "administrative", (
        "office manager", "office administrator", "administrative", "receptionist",
        "executive assistant", "personal assistant", "assistant to", "secretary", "admin")),
    _Rule("operations", "office_operations", "administrative", ("office",), fallback=True),
    _Rule("operations", "project_management", "program_and_project_management", (
        "project manager", "program manager", "project management", "program management",
        "pmo", "project coordinator", "project lead", "project", "program", "programme")),
    _Rule("operations", "quality_management", "quality_assurance", ("quality",)),
    _Rule("operations", "real_estate", "real_estate", (
        "real estate", "property manager", "leasing", "property")),
    _Rule("operations", "construction", None, ("construction",)),
    _Rule("operations", "store_operations", None, ("store", "shop", "retail"), fallback=True),
    _Rule("operations", "corporate_strategy", None, (
        "corporate strategy", "business operations", "strategy", "strategic planning")),
    _Rule("operations", None, None, (
        "operations", "operation", "operational", "manufacturing", "production", "plant")),
    # support
    _Rule("support", "customer_service_support", None, (
        "customer service", "customer support", "customer care", "client services",
        "client support", "technical support", "tech support", "support", "call center",
        "contact center", "helpline")),
    # education
    _Rule("education", "teacher", None, ("teacher", "teaching", "educator", "tutor")),
    _Rule("education", "professor", None, (
        "professor", "lecturer", "faculty", "postdoc", "postdoctoral", "phd", "doctoral")),
    _Rule("education", "principal", None, ("school principal", "headmaster", "headteacher")),
    _Rule("education", None, None, ("instructor", "dean", "academic", "curriculum", "education")),
    _Rule("education", None, None, ("school", "university", "college"), fallback=True),
    # medical and health
    _Rule("medical_health", "nursing", None, ("nurse", "nursing", "rn")),
    _Rule("medical_health", "pharmacy", None, ("pharmacist", "pharmacy")),
    _Rule("medical_health", "dentistry", None, ("dentist", "dental")),
    _Rule("medical_health", "physical_therapy", None, (
        "physical therapist", "physiotherapist", "physical therapy")),
    _Rule("medical_health", "doctors_physicians", None, (
        "physician", "doctor", "surgeon", "anesthesiologist", "cardiologist", "oncologist",
        "pediatrician", "radiologist", "psychiatrist", "dermatologist", "neurologist")),
    _Rule("medical_health", None, None, (
        "clinical", "clinician", "medical", "medicine", "healthcare", "health care",
        "hospital", "patient", "therapist", "psychologist", "veterinarian", "paramedic",
        "midwife", "optometrist", "dietitian", "nutritionist", "caregiver")),
    # consulting
    _Rule("consulting", "consultant", None, (
        "consultant", "consultants", "consulting", "advisor", "adviser", "advisory")),
    # generic words last; role nouns only when nothing more specific was found
    _Rule("engineering_technical", None, None, ("engineering", "eng")),
    _Rule("design", None, None, ("design", "creative director", "art director")),
    _Rule("engineering_technical", None, None, (
        "engineer", "engineers", "architect", "technical"), fallback=True),
    _Rule("design", None, None, ("designer", "designers", "creative"), fallback=True),
)  # fmt: skip

STOP_WORDS: frozenset[str] = frozenset(
    {"a", "an", "and", "at", "for", "in", "of", "on", "the", "to", "with", "de", "des", "du", "la"}
)
_IT_WORD = re.compile(r"\bIT\b")
_MAX_TITLE = 200
_WILDCARD_OFFICER = re.compile(r" chief (?:[a-z]+ ){1,4}officer ")


@dataclass(frozen=True, slots=True)
class TitleClass:
    """Apollo's classification of a job title. Empty tuples when nothing is known."""

    seniority: str | None
    departments: tuple[str, ...]
    subdepartments: tuple[str, ...]
    functions: tuple[str, ...]


UNCLASSIFIED = TitleClass(None, (), (), ())


def title_key(title: str | None) -> str:
    """The title as lowercase ASCII words, for indexing and display-independent comparison."""
    return " ".join(fold_words(title))


def classify_title(title: str | None) -> TitleClass:
    """Seniority, departments, subdepartments and functions for a job title (see the module
    docstring for the rules)."""
    if not title:
        return UNCLASSIFIED
    return _classify(title[:_MAX_TITLE])


@functools.lru_cache(maxsize=65536)
def _classify(title: str) -> TitleClass:
    text = f" {' '.join(_canonical_words(title))} "
    if not text.strip():
        return UNCLASSIFIED
    seniority = _seniority(text)
    departments: dict[str, None] = {}
    subdepartments: set[str] = set()
    functions: dict[str, None] = {}
    if seniority in ("founder", "owner"):
        departments["c_suite"] = None
        subdepartments.add("founder" if seniority == "founder" else "executive")
        functions["entrepreneurship"] = None
    if seniority in ("c_suite", "founder", "owner"):
        text = _apply(_EXECUTIVE_INDEX, text, departments, subdepartments, functions)
    text = _apply(_SPECIFIC_INDEX, text, departments, subdepartments, functions)
    if all(d == "c_suite" for d in departments):
        _apply(_FALLBACK_INDEX, text, departments, subdepartments, functions)
    return TitleClass(
        seniority, tuple(sorted(departments)), tuple(sorted(subdepartments)), tuple(sorted(functions))
    )


def _canonical_words(title: str) -> list[str]:
    """Folded words with WORD_SYNONYMS and PHRASE_SYNONYMS applied; "it" only as "IT"."""
    keep_it = title.islower() or _IT_WORD.search(title) is not None
    words: list[str] = []
    for word in fold_words(title):
        if word == "it" and not keep_it:
            continue
        words.append(WORD_SYNONYMS.get(word, word))
    present = set(words)
    text = f" {' '.join(words)} "
    for first, padded, replacement in _PHRASE_SYNONYMS_PADDED:
        if first in present:
            text = text.replace(padded, replacement)
    return text.split()


# Rules are looked up by the first word of each phrase, so a title is checked only against the
# phrases that could occur in it (a handful) instead of all ~600; order is kept by sorting the
# candidates on (row, phrase) position. Words only ever leave the text, so a phrase whose first
# word is absent at the start cannot appear later.


class _Entry(NamedTuple):
    order: tuple[int, int]
    padded: str  # " phrase ", or the wildcard
    rule: _Rule


def _first_word(phrase: str) -> str:
    return phrase.split(" ", 1)[0]


def _pad(phrase: str) -> str:
    return phrase if phrase == _WILDCARD else f" {phrase} "


def _rule_index(rules: tuple[_Rule, ...]) -> dict[str, tuple[_Entry, ...]]:
    index: dict[str, list[_Entry]] = {}
    for row, rule in enumerate(rules):
        for position, phrase in enumerate(rule.phrases):
            index.setdefault(_first_word(phrase), []).append(_Entry((row, position), _pad(phrase), rule))
    return {word: tuple(entries) for word, entries in index.items()}


def _seniority_index() -> dict[str, tuple[tuple[int, str, str], ...]]:
    index: dict[str, list[tuple[int, str, str]]] = {}
    for row, (seniority, phrases) in enumerate(SENIORITY_RULES):
        for phrase in phrases:
            index.setdefault(_first_word(phrase), []).append((row, _pad(phrase), seniority))
    return {word: tuple(entries) for word, entries in index.items()}


def _blind_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for phrase in SENIORITY_BLIND:
        index.setdefault(_first_word(phrase), []).append(_pad(phrase))
    return {word: tuple(padded) for word, padded in index.items()}


def _seniority(text: str) -> str:
    words = set(text.split())
    for word in words:
        for padded in _BLIND_INDEX.get(word, ()):
            text = text.replace(padded, " | ")
    candidates = sorted(entry for word in words for entry in _SENIORITY_INDEX.get(word, ()))
    for _, padded, seniority in candidates:
        if _has(text, padded):
            return seniority
    return "entry"


def _has(text: str, padded: str) -> bool:
    if padded == _WILDCARD:
        return _WILDCARD_OFFICER.search(text) is not None
    return padded in text


def _consume(text: str, padded: str) -> str:
    if padded == _WILDCARD:
        return _WILDCARD_OFFICER.sub(" | ", text)
    return text.replace(padded, " | ")


def _apply(
    index: dict[str, tuple[_Entry, ...]],
    text: str,
    departments: dict[str, None],
    subdepartments: set[str],
    functions: dict[str, None],
) -> str:
    """Add what every matching rule says, consuming its phrases; return the remaining text."""
    candidates = sorted(entry for word in set(text.split()) for entry in index.get(word, ()))
    for _, padded, rule in candidates:
        if not _has(text, padded):
            continue
        text = _consume(text, padded)
        departments[rule.department] = None
        if rule.subdepartment:
            subdepartments.add(rule.subdepartment)
        function = rule.function or DEPARTMENT_FUNCTION.get(rule.department)
        if function:
            functions[function] = None
    return text


_WILDCARD = "chief * officer"
_EXECUTIVE_INDEX = _rule_index(EXECUTIVE_RULES)
_SPECIFIC_INDEX = _rule_index(tuple(rule for rule in DEPARTMENT_RULES if not rule.fallback))
_FALLBACK_INDEX = _rule_index(tuple(rule for rule in DEPARTMENT_RULES if rule.fallback))
_SENIORITY_INDEX = _seniority_index()
_BLIND_INDEX = _blind_index()
_PHRASE_SYNONYMS_PADDED = tuple((_first_word(p), f" {p} ", f" {r} ") for p, r in PHRASE_SYNONYMS)


# --- title search ---------------------------------------------------------------------------

_KEEP_S = ("ss", "us", "is", "ics", "sales", "news", "ops", "series")


def stem(word: str) -> str:
    """Light plural stemming: "managers" -> "manager", "companies" -> "company",
    "coaches" -> "coach"; "sales", "business", "status", "analytics" unchanged."""
    if len(word) <= 2 or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def title_tokens(title: str) -> frozenset[str]:
    """The words a title is searched by: canonical words (abbreviations expanded, "vice
    president" -> "vp"), stemmed, without stop words."""
    return _title_tokens(title[:_MAX_TITLE])


@functools.lru_cache(maxsize=65536)
def _title_tokens(title: str) -> frozenset[str]:
    return frozenset(stem(w) for w in _canonical_words(title) if w not in STOP_WORDS)


def title_matches(query: str | None, title: str | None) -> bool:
    """Whether every word of ``query`` appears in ``title``, in any order (see the module
    docstring). An empty query matches any title; an empty title matches no non-empty query."""
    wanted = title_tokens(query or "")
    if not wanted:
        return True
    return wanted <= title_tokens(title or "")
