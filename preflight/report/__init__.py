"""Renderers of a Report: text for people, JSON/SARIF/JUnit for machines."""
