"""The académie of a school, from the département prefix of its UAI code.

A UAI ("0921234A") starts with the school's département on three characters
(092 → Hauts-de-Seine → Versailles; 620/720 for Corsica, 97x overseas).
"""

from __future__ import annotations

# académie → the département prefixes of its UAI codes, space-separated
_BY_ACADEMIE: dict[str, str] = {
    "Aix-Marseille": "004 005 013 084",
    "Amiens": "002 060 080",
    "Besançon": "025 039 070 090",
    "Bordeaux": "024 033 040 047 064",
    "Clermont-Ferrand": "003 015 043 063",
    "Corse": "620 720",
    "Créteil": "077 093 094",
    "Dijon": "021 058 071 089",
    "Grenoble": "007 026 038 073 074",
    "Lille": "059 062",
    "Limoges": "019 023 087",
    "Lyon": "001 042 069",
    "Montpellier": "011 030 034 048 066",
    "Nancy-Metz": "054 055 057 088",
    "Nantes": "044 049 053 072 085",
    "Nice": "006 083",
    "Normandie": "014 027 050 061 076",
    "Orléans-Tours": "018 028 036 037 041 045",
    "Paris": "075",
    "Poitiers": "016 017 079 086",
    "Reims": "008 010 051 052",
    "Rennes": "022 029 035 056",
    "Strasbourg": "067 068",
    "Toulouse": "009 012 031 032 046 065 081 082",
    "Versailles": "078 091 092 095",
    "Guadeloupe": "971",
    "Martinique": "972",
    "Guyane": "973",
    "La Réunion": "974",
    "Mayotte": "976",
}

_BY_PREFIX: dict[str, str] = {prefix: name for name, prefixes in _BY_ACADEMIE.items() for prefix in prefixes.split()}


def academie_of(uai: str | None) -> str:
    """The académie name for a UAI code ("0921234A" → "Versailles"), or "" when the code is
    absent or its prefix unknown. The code is not otherwise checked."""
    if not uai:
        return ""
    return _BY_PREFIX.get(uai.strip()[:3], "")
