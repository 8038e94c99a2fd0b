"""Memory methods: ``seed`` (the article's rules) and ``detailed`` (Megatron / DeepSpeed)."""
