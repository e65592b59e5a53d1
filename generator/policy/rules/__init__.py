"""One module per policy rule. Ids are a public contract: never renumber or reuse one."""
