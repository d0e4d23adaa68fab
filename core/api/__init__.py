"""The REST API (/api/v1), compatible with the hosted Harmonica's v1: routes, keys, errors, schemas."""
