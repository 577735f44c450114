"""HTTP plumbing: route declarations, auth, validation, errors, correlation ids, OpenAPI.

Framework-neutral: ``functions/http.py`` adapts Azure Functions requests to ``ApiRequest``.
"""
