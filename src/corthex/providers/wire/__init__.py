"""Each provider's request wire form, pure and without its SDK: what planning sizes and what
the adapters send."""
