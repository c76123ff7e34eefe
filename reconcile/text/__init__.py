"""Words the program says: the rule catalogue, its fi/sv/en messages, and the formatters.

    rules       every finding code, declared once: severity, effect, titles and texts
    messages    renders a finding in a language; redaction of identifiers
    format      the one formatter each for euros, hours, dates and months
"""
