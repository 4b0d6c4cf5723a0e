"""The root Mutation: one mutation per state transition."""
