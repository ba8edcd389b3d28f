"""The composition root and the command line: builds stores, views, followers from settings.

Outside `api/`, so that worker processes (relay, consumers) import no HTTP.
"""
