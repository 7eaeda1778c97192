"""Shared test helpers (fixtures live in conftest.py; test modules never import one another)."""
