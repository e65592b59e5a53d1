"""Stage render: pure functions from resolved specs to Kubernetes objects and the file tree,
in memory (``tree.render_tree``); no disk, clock or environment."""
