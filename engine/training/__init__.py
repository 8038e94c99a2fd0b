"""Training memory: configuration, layout checks, the seed and detailed methods, the estimator."""
