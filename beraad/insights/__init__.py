"""Coordinator insights: how moral case deliberation lives across the organisation (see service.py)."""
