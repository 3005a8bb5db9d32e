"""The bank's tag vocabulary: the themes, levels and roles a published dilemma may carry.

The Dutch tag is the slug itself; the English interface shows the label here. A tag outside this
vocabulary keeps a dilemma from being published, so the bank's filters stay short and useful;
a new theme is added here (with its English label) before a case may use it.
"""

LEVEL_LABELS_EN = {
    "rijk": "central government", "provincie": "province", "gemeente": "municipality",
    "waterschap": "water authority", "uitvoering": "implementing agency",
}  # fmt: skip
THEME_LABELS_EN = {
    "agressie": "aggression", "ai": "AI", "ambtseed": "oath of office",
    "belangenverstrengeling": "conflict of interest", "burgers": "citizens",
    "discriminatie": "discrimination", "draaideur": "revolving door",
    "financiele-belangen": "financial interests", "gedrag-buiten-werktijd": "off-duty conduct",
    "gedragscode": "code of conduct", "geschenken": "gifts",
    "grensoverschrijdend-gedrag": "transgressive behaviour", "informatievoorziening": "informing",
    "inhuur": "external hires", "integriteit": "integrity", "klokkenluiden": "whistleblowing",
    "leiderschap": "leadership", "loyaliteit": "loyalty", "medezeggenschap": "employee participation",
    "melding": "reporting", "menselijke-maat": "human touch", "nevenwerkzaamheden": "side jobs",
    "ondermijning": "organised crime", "onderzoek": "research", "openbaarheid": "transparency",
    "pesten": "bullying", "politiek-ambtelijke-verhoudingen": "politics and civil service",
    "politieke-druk": "political pressure", "politieke-neutraliteit": "political neutrality",
    "privacy": "privacy", "rechtvaardigheid": "justice", "sociale-media": "social media",
    "sociale-veiligheid": "social safety", "tegenspraak": "speaking up", "veiligheid": "safety",
    "vertrouwelijkheid": "confidentiality", "vertrouwen": "trust",
    "vertrouwenspersoon": "confidential counsellor", "zorgplicht": "duty of care",
}  # fmt: skip
ROLE_LABELS_EN = {
    "adviseur": "adviser", "beleidsmedewerker": "policy officer", "bestuurder": "executive",
    "bestuursadviseur": "executive adviser", "communicatieadviseur": "communications adviser",
    "controller": "controller", "data-analist": "data analyst", "directeur": "director",
    "functionaris-gegevensbescherming": "data protection officer", "gedeputeerde": "provincial executive",
    "griffier": "council clerk", "hr-adviseur": "HR adviser", "inspecteur": "inspector",
    "integriteitscoordinator": "integrity coordinator", "leidinggevende": "manager",
    "managementteam": "management team", "medewerker": "employee", "onderzoeker": "researcher",
    "opdrachtgever": "client", "or-lid": "works council member", "projectleider": "project leader",
    "toezichthouder": "supervisor", "uitvoerder": "case worker", "vergunningverlener": "permit officer",
    "vertrouwenspersoon": "confidential counsellor", "wijkambtenaar": "neighbourhood officer",
    "wijkteammedewerker": "social team worker",
}  # fmt: skip
KNOWN = {"levels": LEVEL_LABELS_EN, "themes": THEME_LABELS_EN, "roles": ROLE_LABELS_EN}
TAG_LABELS_EN = {**LEVEL_LABELS_EN, **THEME_LABELS_EN, **ROLE_LABELS_EN}
