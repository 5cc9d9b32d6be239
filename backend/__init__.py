"""Copytrack backend: the Flask application and the domain services behind it."""
