"""Scrapyd as the engine that runs ropsfeed's spiders on several machines (DESIGN.md §7).

`egg` builds the project egg, `client` speaks Scrapyd's JSON API, `dispatch` splits a run's
sources across servers and waits for them; `egg_entry` is the settings module inside the egg.
"""
