"""Jinja2 templates, installed as package data of preflight.templates (see preflight/fix/templates.py)."""
