"""The web portal at /app/: server-rendered pages (Jinja2) for learners, enterprises, officers,
auditors and institutions, and the public verify page.

Every page reads and writes through the GraphQL schema, executed in-process with the signed-in
caller's principal (``portal.gql``): the same application layer, read models, authorization
policy and typed errors as the API, and no second source of truth. Forms post back and redirect
(they work without JavaScript); ``static/portal.js`` only enhances (auto-submitting pickers).
"""
