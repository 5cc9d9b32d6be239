"""Uploads, collections and categories, and the registration of images on the chain."""
