"""Bulk intake: an institution uploads a semester of credentials as NDJSON lines, a background
worker deposits them (``application.commands.intake``), and each line's result is kept for audit.
The NDJSON is built and signed on the institution's machine (``grades``: a registrar's CSV).
"""
