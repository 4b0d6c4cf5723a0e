"""PayGraph's pure core: entities, value objects, rules and ports.

Imports only the standard library; nothing here knows about GraphQL or SQL.
"""
