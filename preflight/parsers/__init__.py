"""Configuration parsers: text gathered from a host -> typed, located settings.

Every parser reads text (never this machine's files), goes through Augeas
lenses (stock ones, or the project's own in ``lenses/``), and reports bad
input as :class:`preflight.model.findings.ParseError` with file and line
instead of raising.
"""
