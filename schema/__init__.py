"""The GraphQL surface: types, inputs, enums, scalars and the assembled schema.

The assembled object lives in `schema.app_schema` so importing a type module does not
build the whole schema.
"""
