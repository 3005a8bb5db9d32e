"""JSON API (/api/v1): the web UI's actions for scripts and other systems, on the same logic modules.

views.py holds the blueprint (parse JSON → call logic → serialise); auth.py says who is calling;
body.py checks request bodies; serialise.py gives the JSON shapes; errors.py the error body;
spec.py reads openapi.yaml, the one description of the API that the docs page is rendered from.
"""
