"""The functions behind fields: read arguments, call loaders or the domain, return
domain objects. Thin: business rules live in domain/."""
