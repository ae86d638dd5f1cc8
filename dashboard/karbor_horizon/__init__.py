"""Horizon panels for Karbor (the "Data Protection" panel group)."""
