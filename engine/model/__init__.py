"""The model: architecture (``spec``) and its parameter counts (``params``)."""
