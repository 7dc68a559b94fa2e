"""Rate limits and credits, with Apollo's semantics."""
