"""The unified model every layer shares: entity keys (USCC) and the one vocabulary."""
