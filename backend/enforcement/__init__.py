"""Enforcement: from a found copy to a paid licence (issue 11), without Flask.

`jurisdictions` (country terms and partner firms), `country` (where a site answers to), `contacts`
(who to write to), `pricing` (what to claim), `documents` (the letters as PDF), `mail` (the durable
outbox), `cases` (the ladder, its deadlines and the case file).
"""
